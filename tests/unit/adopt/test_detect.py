"""What init finds in a project: each finding from the files that say it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from shipyard.adopt import code, detect, packages, pythons, render
from tests.unit.adopt.variants import variants
from tests.unit.conftest import write_tree


@pytest.mark.parametrize(
    ("files", "tool", "evidence"),
    [
        ({"uv.lock": "", "poetry.lock": "", "requirements.txt": ""}, "uv", "uv.lock"),
        ({"poetry.lock": "", "requirements.txt": ""}, "poetry", "poetry.lock"),
        (
            {"pyproject.toml": "[tool.poetry]\nname='x'\n"},
            "poetry",
            "[tool.poetry] in pyproject.toml",
        ),
        ({"requirements-dev.txt": "", "requirements/base.txt": ""}, "pip", "requirements/base.txt"),
        ({"setup.py": ""}, "pip", "setup.py"),
        (
            {"pyproject.toml": "[project]\nname='x'\n"},
            "pip",
            "[project] in pyproject.toml without a lock file",
        ),
    ],
    ids=["uv-lock-first", "poetry-lock", "poetry-table", "requirements", "setup-py", "pep621"],
)
def test_toolchain_by_lock_first(
    tmp_path: Path, files: dict[str, str], tool: str, evidence: str
) -> None:
    """A lock file decides; then [tool.poetry]; then runtime requirements; then metadata."""
    assert detect.toolchain(write_tree(tmp_path, files)) == detect.Found(tool, evidence)


@pytest.mark.parametrize(
    ("files", "version"),
    [
        (
            {
                ".python-version": "3.10.4\n",
                "pyproject.toml": "[project]\nrequires-python='>=3.12'\n",
            },
            "3.10",
        ),
        ({"runtime.txt": "python-3.9.18\n"}, "3.9"),
        ({"pyproject.toml": "[project]\nrequires-python='>=3.9,<3.11'\n"}, "3.10"),
        (
            {
                "pyproject.toml": "[project]\nrequires-python='>=3.9'\nclassifiers=["
                "'Programming Language :: Python :: 3.9','Programming Language :: Python :: 3.11']\n"
            },
            "3.11",
        ),
        ({"pyproject.toml": "[tool.poetry.dependencies]\npython='^3.11'\n"}, "3.12"),
        ({"pyproject.toml": "[project]\nrequires-python='>=3.13'\n"}, "3.13"),
        ({".github/workflows/ci.yml": "python-version: ['3.9', '3.10']\n", "setup.py": ""}, "3.10"),
        ({}, "3.12"),
        (
            {
                "Dockerfile": "FROM python:3.10-slim AS base\n",
                "pyproject.toml": "[project]\nrequires-python='>=3.9'\n",
            },
            "3.10",
        ),
        (
            {
                "docker/app/Dockerfile": "FROM --platform=$BUILDPLATFORM python:3.9\n",
                "pyproject.toml": "[project]\nrequires-python='>=3.11'\n",
            },
            "3.12",
        ),
        ({"Pipfile": '[packages]\nflask = "*"\n\n[requires]\npython_version = "3.10"\n'}, "3.10"),
        (
            {
                ".github/workflows/tests.yml": "python-version: ['3.14']\n",
                "pyproject.toml": "[project]\nrequires-python='>=3.12'\n",
            },
            "3.14",
        ),
        (
            {
                ".github/workflows/test.yml": "jobs:\n  test:\n    strategy:\n      matrix:\n"
                "        python-version:\n          - 'pypy3.11'\n          - '3.14t'\n"
                "          - '3.13'\n          - '3.12'\n          - '3.11'\n"
                "    container: python:3.10-slim\n",
                ".github/workflows/bench.yml": "jobs:\n  b:\n    steps:\n      - with:\n"
                "          python-version: '3.14'\n",
                "pyproject.toml": "[project]\nrequires-python='>=3.9'\n",
            },
            "3.12",
        ),
    ],
    ids=[
        "python-version-file",
        "runtime-txt",
        "upper-bound",
        "classifiers",
        "poetry-caret",
        "newer-only",
        "ci-matrix",
        "default",
        "own-dockerfile",
        "own-dockerfile-not-allowed",
        "pipfile",
        "ci-only-newer",
        "ci-matrix-list-and-one-job",
    ],
)
def test_python_version(tmp_path: Path, files: dict[str, str], version: str) -> None:
    """A pinned file wins; else the newest version every declaration allows."""
    assert pythons.python_version(write_tree(tmp_path, files)).value == version


def test_backing_services_and_wheel_packages(tmp_path: Path) -> None:
    """Drivers and clients name the services; psycopg2 from source needs libpq in two stages."""
    deps = {"psycopg2": "requirements.txt", "celery": "requirements.txt"}
    assert code.backing_services(tmp_path, deps, []).value == ["postgres", "redis"]
    build, runtime = packages.system_packages(deps)
    assert (build.value, runtime.value) == (["gcc", "libc6-dev", "libpq-dev"], ["libpq5"])
    assert code.backing_services(tmp_path, {"flask": "x"}, []).value == []


def test_project_name_says_where_it_came_from(tmp_path: Path) -> None:
    """No [project].name: the folder's name, and the evidence says so."""
    found = detect.project_name(write_tree(tmp_path / "svc", {"requirements.txt": "flask\n"}))
    assert found == detect.Found("svc", "the folder's name: no [project].name in svc/")


def test_test_requirements_by_content_through_includes(tmp_path: Path) -> None:
    """No file is named for tests: the one whose -r includes hold pytest is the test file."""
    root = write_tree(
        tmp_path,
        {
            "requirements/base.txt": "django==5.2\n",
            "requirements/production.txt": "-r base.txt\ngunicorn\n",
            "requirements/local.txt": "-r base.txt\n-r tools.txt\n",
            "requirements/tools.txt": "pytest==9.2.0\npytest-django\n",
        },
    )
    found = detect.test_dependencies(root, "pip")
    assert found == detect.Found(
        ["requirements/local.txt"],
        "requirements/local.txt; by content: it (or a file it includes) holds pytest",
    )


def test_a_setup_cfg_of_tool_sections_alone_installs_nothing(tmp_path: Path) -> None:
    """[flake8] alone is no package; [metadata] or [options] is."""
    flake8 = write_tree(tmp_path / "a", {"setup.cfg": "[flake8]\nmax-line-length = 120\n"})
    assert detect.is_package(flake8, "pip").value is False
    package = write_tree(tmp_path / "b", {"setup.cfg": "[metadata]\nname = svc\n"})
    found = detect.is_package(package, "pip")
    assert (found.value, found.evidence) == (True, "setup.cfg [metadata]/[options]")


def test_the_members_of_a_uv_workspace(tmp_path: Path) -> None:
    """Globbed folders holding a pyproject.toml, less the excluded ones and the root itself."""
    root = write_tree(
        tmp_path,
        {
            "pyproject.toml": (
                '[project]\nname = "svc"\n[tool.uv.workspace]\n'
                'members = ["packages/*", "."]\nexclude = ["packages/old"]\n'
            ),
            "packages/greet/pyproject.toml": "",
            "packages/old/pyproject.toml": "",
            "packages/notes/README.md": "",
        },
    )
    assert detect.workspace_members(root) == detect.Found(
        ["packages/greet"], "[tool.uv.workspace] members in pyproject.toml"
    )
    plain = write_tree(tmp_path / "plain", {"pyproject.toml": '[project]\nname = "x"\n'})
    assert detect.workspace_members(plain).value == []


def test_a_lock_poetry_1_wrote_is_exported_by_poetry_1(tmp_path: Path) -> None:
    """Poetry 2's export of a 1.8 lock can drop a locked package: the lock's own Poetry exports."""
    root = write_tree(
        tmp_path,
        {"poetry.lock": "# This file is automatically @generated by Poetry 1.8.3 and should not\n"},
    )
    assert detect.poetry_lock_version(root) == "1.8.3"
    assert detect.poetry_lock_version(tmp_path / "none") == ""
    poetry = next(v for v in variants() if v.toolchain == "poetry")
    old = render.dockerfile(dataclasses.replace(poetry, poetry_lock="1.8.3"))
    assert "poetry==1.8.5 poetry-plugin-export==1.8.0" in old
    new = render.dockerfile(dataclasses.replace(poetry, poetry_lock="2.5.1"))
    assert "poetry==2.5.1 poetry-plugin-export==1.10.1" in new


@pytest.mark.parametrize(
    ("files", "installs"),
    [
        ({"app/__init__.py": ""}, False),  # fastapi-realworld: the package is app/
        ({"fastapi_realworld_example_app/__init__.py": ""}, True),
        ({"src/fastapi_realworld_example_app/__init__.py": ""}, True),
        ({"fastapi_realworld_example_app.py": ""}, True),
    ],
)
def test_a_poetry_project_installs_only_when_poetry_finds_its_package(
    tmp_path: Path, files: dict[str, str], installs: bool
) -> None:
    pyproject = (
        '[tool.poetry]\nname = "fastapi-realworld-example-app"\nversion = "0"\n'
        '[build-system]\nrequires = ["poetry-core"]\nbuild-backend = "poetry.core.masonry.api"\n'
    )
    root = write_tree(tmp_path, {"pyproject.toml": pyproject, **files})
    found = detect.is_package(root, "poetry")
    assert found.value is installs
    if not installs:
        assert found.evidence.startswith("Poetry finds no package fastapi_realworld_example_app")
    packages = write_tree(
        tmp_path / "listed",
        {
            "pyproject.toml": pyproject.replace(
                'version = "0"', 'version = "0"\npackages = [{include = "app"}]'
            ),
            **files,
        },
    )
    assert detect.is_package(packages, "poetry").value is True


def test_what_pyproject_declares_statically_is_installed_before_the_source(
    tmp_path: Path,
) -> None:
    """Runtime deps, the build backend and the test extras' deps; `pkg[x]` of itself is not one."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "Demo-Lib"\ndependencies = ["flask>=3", "click"]\n'
        '[project.optional-dependencies]\ntest = ["pytest>=8", "demo_lib[extra]"]\n'
        'extra = ["rich"]\n[build-system]\nrequires = ["setuptools>=61"]\n'
    )
    assert detect.declared(tmp_path, ["test"]) == detect.Declared(
        ("flask>=3", "click"), ("setuptools>=61",), ("pytest>=8",)
    )


def test_dynamic_dependencies_are_not_read(tmp_path: Path) -> None:
    """setup.py computes them: nothing is installed ahead; `pip install .` does it all."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndynamic = ["dependencies"]\n'
        '[build-system]\nrequires = ["setuptools"]\n'
    )
    assert detect.declared(tmp_path, ["test"]) == detect.Declared()
