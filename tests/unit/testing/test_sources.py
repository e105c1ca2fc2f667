"""Which folders the kept test container mounts, and which edits rebuild the test image."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.env.environment import Image
from shipyard.testing.sources import Mount, build_inputs, build_outputs, source_mounts
from tests.unit.conftest import write, write_tree

REFERENCE = """\
FROM python:3.13-slim AS base
WORKDIR /app
FROM base AS development
COPY pyproject.toml uv.lock ./
COPY src ./src
FROM development AS test
COPY tests ./tests
FROM base AS production
COPY --from=development /app/.venv /app/.venv
COPY deploy /srv/deploy
"""

WHOLE = """\
FROM python:3.12-slim AS base
WORKDIR /app
FROM base AS development
COPY --chown=1000:1000 . .
FROM development AS test
CMD ["pytest"]
"""


def _image(root: Path, dockerfile: str, target: str = "test") -> Image:
    return Image("demo:test", root, write(root / "Dockerfile", dockerfile), target)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_tree(
        tmp_path / "app",
        {
            "pyproject.toml": "[project]\n",
            "uv.lock": "version = 1\n",
            "manage.py": "",
            "src/demo/__init__.py": "",
            "tests/test_demo.py": "",
            "deploy/run.sh": "",
            "node_modules/x/index.js": "",
            ".git/HEAD": "",
        },
    )


def _mounts(image: Image) -> list[tuple[str, str]]:
    return [
        (m.source.relative_to(image.context).as_posix(), m.target) for m in source_mounts(image)
    ]


def test_the_folders_the_test_stages_copy_land_where_they_were_copied(project: Path) -> None:
    """COPY src ./src and COPY tests ./tests; files and other targets' copies are not mounted."""
    assert _mounts(_image(project, REFERENCE)) == [("src", "/app/src"), ("tests", "/app/tests")]


def test_the_whole_context_is_mounted_a_folder_at_a_time(project: Path) -> None:
    """COPY . . mounts each folder the build sends, never over /app itself (its venv)."""
    write(project / ".dockerignore", ".git\nnode_modules\n")
    assert _mounts(_image(project, WHOLE)) == [
        ("deploy", "/app/deploy"),
        ("src", "/app/src"),
        ("tests", "/app/tests"),
    ]


def test_a_folder_copied_onto_the_working_folder_is_mounted_by_its_subfolders(
    project: Path,
) -> None:
    """COPY src /app/ puts src's content in /app: each subfolder of src is mounted."""
    dockerfile = 'FROM python:3.12-slim AS test\nWORKDIR /app\nCOPY ["src", "/app/"]\n'
    assert _mounts(_image(project, dockerfile)) == [("src/demo", "/app/demo")]


def test_relative_workdirs_globs_variables_and_other_stages_are_followed_or_left(
    project: Path,
) -> None:
    """WORKDIR steps add up; a glob, a variable or --from copies nothing mountable."""
    dockerfile = (
        "FROM python:3.12-slim AS test\nWORKDIR /srv\nWORKDIR code\n"
        "COPY tests/ ./checks/\nCOPY s* ./s\nCOPY $SRC ./src\nCOPY --from=base /x ./x\n"
    )
    assert _mounts(_image(project, dockerfile)) == [("tests", "/srv/code/checks")]


def test_an_ignored_folder_is_never_mounted(project: Path) -> None:
    """What .dockerignore keeps out of the image stays out of the container."""
    write(project / ".dockerignore", "tests\n")
    assert _mounts(_image(project, REFERENCE)) == [("src", "/app/src")]


def test_a_mount_is_read_only() -> None:
    """The suite cannot write into the user's checkout."""
    assert Mount(Path("/w/app/src"), "/app/src").volume() == "/w/app/src:/app/src:ro"


def test_an_edit_below_a_mounted_folder_needs_no_build(project: Path) -> None:
    """Source and tests are mounted: their edits leave the build inputs as they were."""
    image = _image(project, REFERENCE)
    mounts = source_mounts(image)
    before = build_inputs([image], mounts)
    write(project / "src/demo/__init__.py", "VALUE = 2\n")
    write(project / "tests/test_new.py", "def test_new(): pass\n")
    assert build_inputs([image], mounts) == before


@pytest.mark.parametrize(
    "edited", ["uv.lock", "pyproject.toml", "Dockerfile", "manage.py", ".dockerignore"]
)
def test_a_change_to_the_lock_dockerfile_or_a_file_outside_the_mounts_rebuilds(
    project: Path, edited: str
) -> None:
    """Every input the image's build reads outside the mounted folders is in the digest."""
    image = _image(project, REFERENCE)
    mounts = source_mounts(image)
    before = build_inputs([image], mounts)
    with (project / edited).open("a", encoding="utf-8") as out:
        out.write("\n# changed\n")
    assert build_inputs([image], mounts) != before


def test_what_the_build_wrote_into_a_mounted_folder_is_found(tmp_path: Path) -> None:
    """Files the image has under a mount and the host lacks; bytecode and other paths left out."""
    src = write_tree(tmp_path / "src", {"pkg/__init__.py": "", "pkg/core.py": ""})
    tests = write_tree(tmp_path / "tests", {"test_core.py": ""})
    mounts = [Mount(src, "/app/src"), Mount(tests, "/app/tests")]
    listing = "\n".join(
        [
            "/app/src/pkg/__init__.py",
            "/app/src/pkg/core.py",
            "/app/src/pkg/_version.py",
            "/app/src/pkg.egg-info/PKG-INFO",
            "/app/src/pkg/__pycache__/core.cpython-312.pyc",
            "/app/tests/test_core.py",
            "/app/srcfoo/x.py",
            "/app/.venv/bin/python",
        ]
    )
    assert build_outputs(listing, mounts) == [
        ("/app/src/pkg/_version.py", src / "pkg" / "_version.py"),
        ("/app/src/pkg.egg-info/PKG-INFO", src / "pkg.egg-info" / "PKG-INFO"),
    ]
