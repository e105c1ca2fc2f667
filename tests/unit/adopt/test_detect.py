"""What init finds in a project: each finding from the files that say it."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.adopt import detect


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


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
    assert detect.toolchain(write(tmp_path, files)) == detect.Found(tool, evidence)


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
    ],
)
def test_python_version(tmp_path: Path, files: dict[str, str], version: str) -> None:
    """A pinned file wins; else the newest version every declaration allows."""
    assert detect.python_version(write(tmp_path, files)).value == version


def test_framework_prefers_a_module_level_app_over_a_factory(tmp_path: Path) -> None:
    """FastAPI: the shallowest `app = FastAPI()` is the entry point, with its line as evidence."""
    write(
        tmp_path,
        {
            "src/svc/__init__.py": "",
            "src/svc/main.py": "from fastapi import FastAPI\n\napi = FastAPI()\n",
            "src/svc/deep/other.py": "from fastapi import FastAPI\napp = FastAPI()\n",
            "tests/test_x.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
    )
    kind, app = detect.framework(tmp_path, {"fastapi": "pyproject.toml [project]"})
    assert (kind.value, app) == (
        "fastapi",
        detect.Found("svc.main:api", "src/svc/main.py:3 api = ..."),
    )


def test_flask_factory_and_django_wsgi(tmp_path: Path) -> None:
    """A Flask factory is called by the server; Django's WSGI module comes from manage.py."""
    flask = write(tmp_path / "f", {"web/__init__.py": "def create_app():\n    pass\n"})
    assert detect.framework(flask, {"flask": "requirements.txt"})[1].value == "web:create_app()"
    django = write(
        tmp_path / "d",
        {
            "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings.prod")\n',
            "site/wsgi.py": "",
        },
    )
    kind, app = detect.framework(django, {"django": "poetry.lock"})
    assert (kind.value, app.value) == ("django", "site.wsgi:application")


def test_env_reads_with_defaults_and_where(tmp_path: Path) -> None:
    """os.environ[], getenv/environ.get defaults, pydantic settings fields, implicit DATABASE_URL."""
    write(
        tmp_path,
        {
            "app/config.py": (
                "import os\n"
                "A = os.environ['API_TOKEN']\n"
                "B = os.getenv('LOG_LEVEL', 'info')\n"
                "C = os.environ.get('WORKERS', 4)\n"
                "D = os.environ.get('PATH')\n"
                "E = os.environ.get('SENTRY_DSN')\n"
                "class Settings(BaseSettings):\n"
                "    redis_host: str = 'localhost'\n"
                "    model_config = {}\n"
                "db = dj_database_url.config()\n"
            ),
            "tests/conftest.py": "import os\nos.environ['ONLY_IN_TESTS']\n",
        },
    )
    assert detect.env_reads(tmp_path) == [
        detect.EnvRead("API_TOKEN", None, "app/config.py:2"),
        detect.EnvRead("DATABASE_URL", None, "app/config.py:10", optional=True),
        detect.EnvRead("LOG_LEVEL", "info", "app/config.py:3"),
        detect.EnvRead("REDIS_HOST", "localhost", "app/config.py:8"),
        detect.EnvRead("SENTRY_DSN", None, "app/config.py:6", optional=True),
        detect.EnvRead("WORKERS", "4", "app/config.py:4"),
    ]


def test_backing_services_and_wheel_packages(tmp_path: Path) -> None:
    """Drivers and clients name the services; psycopg2 from source needs libpq in two stages."""
    deps = {"psycopg2": "requirements.txt", "celery": "requirements.txt"}
    assert detect.backing_services(tmp_path, deps, []).value == ["postgres", "redis"]
    build, runtime = detect.system_packages(deps)
    assert (build.value, runtime.value) == (["gcc", "libc6-dev", "libpq-dev"], ["libpq5"])
    assert detect.backing_services(tmp_path, {"flask": "x"}, []).value == []


def test_project_name_says_where_it_came_from(tmp_path: Path) -> None:
    """No [project].name: the folder's name, and the evidence says so."""
    found = detect.project_name(write(tmp_path / "svc", {"requirements.txt": "flask\n"}))
    assert found == detect.Found("svc", "the folder's name: no [project].name in svc/")
