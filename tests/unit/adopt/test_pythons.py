"""Which Pythons pinned releases have Linux wheels for, and how init's Python keeps to them."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.adopt import pythons
from tests.unit.conftest import write_tree

MULTIDICT = [
    "multidict-6.0.4.tar.gz",
    "multidict-6.0.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "multidict-6.0.4-cp310-cp310-musllinux_1_1_x86_64.whl",
    "multidict-6.0.4-cp310-cp310-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
    "multidict-6.0.4-cp312-cp312-win_amd64.whl",
    "multidict-6.0.4-cp312-cp312-macosx_11_0_arm64.whl",
]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (MULTIDICT, frozenset({"3.10", "3.11"})),
        (["flask-3.0.0-py3-none-any.whl", "flask-3.0.0.tar.gz"], None),
        (["cffi-1.0-cp36-cp36m-manylinux1_x86_64.whl", "cffi-1.0-py3-none-any.whl"], None),
        (["pkg-1.0.tar.gz"], None),  # an sdist builds, or not, on every Python alike
        (
            ["pkg-1.0-cp312-cp312-win_amd64.whl", "pkg-1.0-cp312-cp312-musllinux_1_2_x86_64.whl"],
            None,
        ),
        (
            ["cryptography-41.0.0-cp37-abi3-manylinux_2_28_x86_64.whl"],
            frozenset({"3.9", "3.10", "3.11", "3.12", "3.13", "3.14"}),
        ),
        (["pkg-1.0-1-cp313-cp313-linux_x86_64.whl"], frozenset({"3.13"})),  # a build tag
        (["pkg-1.0-cp37.cp38-cp37m-manylinux1_x86_64.whl"], None),  # none of PYTHONS
    ],
)
def test_pythons_of_a_release(files: list[str], expected: frozenset[str] | None) -> None:
    assert pythons.pythons(files) == (expected or None)


UV_LOCK = """\
version = 1
requires-python = ">=3.9"

[[package]]
name = "multidict"
version = "6.0.4"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://files.pythonhosted.org/p/multidict-6.0.4.tar.gz" }
wheels = [
    { url = "https://files.pythonhosted.org/p/multidict-6.0.4-cp311-cp311-manylinux_2_17_x86_64.whl" },
    { url = "https://files.pythonhosted.org/p/multidict-6.0.4-cp310-cp310-manylinux_2_17_x86_64.whl" },
]

[[package]]
name = "flask"
version = "3.0.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.pythonhosted.org/p/flask-3.0.0-py3-none-any.whl" }]

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
"""

POETRY_LOCK = """\
[[package]]
name = "asyncpg"
version = "0.26.0"
files = [
    {file = "asyncpg-0.26.0-cp310-cp310-manylinux_2_17_x86_64.whl", hash = "sha256:0"},
    {file = "asyncpg-0.26.0.tar.gz", hash = "sha256:1"},
]
"""

OLD_POETRY_LOCK = """\
[[package]]
name = "asyncpg"
version = "0.26.0"

[metadata.files]
asyncpg = [
    {file = "asyncpg-0.26.0-cp39-cp39-manylinux_2_17_x86_64.whl", hash = "sha256:0"},
]
"""


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"uv.lock": UV_LOCK}, {"multidict 6.0.4": frozenset({"3.10", "3.11"})}),
        ({"poetry.lock": POETRY_LOCK}, {"asyncpg 0.26.0": frozenset({"3.10"})}),
        ({"poetry.lock": OLD_POETRY_LOCK}, {"asyncpg 0.26.0": frozenset({"3.9"})}),
        # A lock is read, not the index: PIP_NO_INDEX (set for unit tests) does not matter.
        (
            {"uv.lock": UV_LOCK, "requirements.txt": "cffi==1.0\n"},
            {"multidict 6.0.4": frozenset({"3.10", "3.11"})},
        ),
    ],
)
def test_locks_list_their_wheels(tmp_path: Path, files: dict[str, str], expected: object) -> None:
    assert pythons.limits(write_tree(tmp_path, files)) == expected


REQUIREMENTS = "Flask==3.0.0\nmultidict == 6.0.4  # pinned\nrequests>=2\nuvloop==0.19; sys_platform != 'win32'\n-r requirements-dev.txt\n"


def index_of(listing: dict[str, list[str]], asked: list[str]) -> pythons.Fetch:
    """Return a stand-in for the package index that answers from ``listing``."""

    def fetch(name: str) -> list[str]:
        asked.append(name)
        if name not in listing:
            raise OSError("HTTP Error 404: Not Found")
        return listing[name]

    return fetch


def test_requirements_pins_are_looked_up_once_per_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIP_NO_INDEX")
    root = write_tree(
        tmp_path, {"requirements.txt": REQUIREMENTS, "requirements-dev.txt": "pytest==8.0.0\n"}
    )
    listing = {
        "flask": ["flask-3.0.0-py3-none-any.whl", "flask-2.0.0-cp39-cp39-manylinux1_x86_64.whl"],
        "multidict": [*MULTIDICT, "multidict-6.1.0-cp312-cp312-manylinux_2_17_x86_64.whl"],
        "pytest": ["pytest-8.0.0-py3-none-any.whl"],
    }
    asked: list[str] = []
    assert pythons.limits(root, index_of(listing, asked)) == {
        "multidict 6.0.4": frozenset({"3.10", "3.11"})
    }
    assert sorted(asked) == ["flask", "multidict", "pytest"]  # ranges and markers are not pins
    assert pythons.limits(root, index_of({}, asked)) == {
        "multidict 6.0.4": frozenset({"3.10", "3.11"})
    }
    assert len(asked) == 3  # kept: the second init asks nothing


def test_an_unreachable_index_constrains_nothing_and_is_asked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PIP_NO_INDEX")
    root = write_tree(tmp_path, {"requirements.txt": "multidict==6.0.4\n"})
    asked: list[str] = []
    assert pythons.limits(root, index_of({}, asked)) == {}
    assert pythons.limits(root, index_of({"multidict": MULTIDICT}, asked)) == {
        "multidict 6.0.4": frozenset({"3.10", "3.11"})
    }
    assert asked == ["multidict", "multidict"]


def test_no_index_asks_nothing(tmp_path: Path) -> None:
    root = write_tree(tmp_path, {"requirements.txt": "multidict==6.0.4\n"})
    asked: list[str] = []
    assert pythons.limits(root, index_of({"multidict": MULTIDICT}, asked)) == {}
    assert asked == []


@pytest.mark.parametrize(
    ("files", "limits", "version", "why"),
    [
        # Nothing else says: the default unless a pin has no wheel for it.
        (
            {"requirements.txt": "x\n"},
            {"multidict 6.0.4": frozenset({"3.10", "3.11"})},
            "3.11",
            "the Linux wheels of multidict 6.0.4",
        ),
        (
            {"requirements.txt": "x\n"},
            {"cffi 1.17": frozenset({"3.12", "3.13"})},
            "3.12",
            "nothing says",
        ),
        (
            {"pyproject.toml": '[project]\nname = "a"\nrequires-python = ">=3.10"\n'},
            {"a 1": frozenset({"3.9", "3.10", "3.11"}), "b 2": frozenset({"3.10", "3.11", "3.12"})},
            "3.11",
            "requires-python '>=3.10' and the Linux wheels of a 1",
        ),
        # No Python has wheels for all: the pins constrain nothing (the build compiles).
        (
            {"requirements.txt": "x\n"},
            {"a 1": frozenset({"3.9"}), "b 2": frozenset({"3.13"})},
            "3.12",
            "nothing says",
        ),
        # The project's own word wins.
        (
            {".python-version": "3.13\n"},
            {"a 1": frozenset({"3.9"})},
            "3.13",
            ".python-version says 3.13",
        ),
    ],
)
def test_the_python_keeps_to_the_wheels(
    tmp_path: Path, files: dict[str, str], limits: dict[str, frozenset[str]], version: str, why: str
) -> None:
    found = pythons.python_version(write_tree(tmp_path, files), limits)
    assert (found.value, why in found.evidence) == (version, True), found.evidence
