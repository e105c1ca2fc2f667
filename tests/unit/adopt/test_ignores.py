"""What shipyard's builds of an adopted project leave out: the project's .dockerignore and git's."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.adopt import ignores
from shipyard.adopt.detect import Found
from tests.unit.conftest import write_tree


def test_the_projects_dockerignore_rules_carry_over_but_not_those_leaving_tests_out(
    tmp_path: Path,
) -> None:
    """A secret key file stays out of shipyard's images; tests/ and the readme stay in."""
    root = write_tree(
        tmp_path,
        {
            ".dockerignore": (
                "# the team's rules\n.ctfd_secret_key\n.data\nCTFd/*.db\ntests/\n"
                "**/conftest.py\n*.md\n!docs/keep.md\n\n"
            ),
            "README.md": "",
            "pyproject.toml": "",
        },
    )
    assert ignores.context_ignores(root) == Found(
        [".ctfd_secret_key", ".data", "CTFd/*.db", "!docs/keep.md"],
        ".dockerignore; not tests/, **/conftest.py, *.md (the tests or the build need it)",
    )
    assert ignores.context_ignores(tmp_path / "none") == Found([], "no .dockerignore")


@pytest.mark.parametrize(
    ("line", "folder", "rule"),
    [
        (".secret", "", "**/.secret"),  # no slash: at any depth
        ("*.py[cod]", "", "**/*.py[cod]"),
        ("build/", "", "**/build"),  # a folder-only pattern: the slash goes
        ("/local_settings.py", "", "local_settings.py"),  # anchored at its file
        ("dev/data/users/*", "", "dev/data/users/*"),  # a slash inside: anchored
        ("**/node_modules", "", "**/node_modules"),
        ("!dev/data/backups/test*.zip", "", "!dev/data/backups/test*.zip"),
        ("*", "media", "media/**/*"),  # media/.gitignore: below its folder
        ("!.gitignore", "media", "!media/**/.gitignore"),
        ("/uploads/", "media", "media/uploads"),
        ("\\#notes", "", "**/#notes"),
        ("# a comment", "", None),
        ("   ", "", None),
        ("/", "", None),
    ],
)
def test_a_gitignore_line_in_dockerignore_form(line: str, folder: str, rule: str | None) -> None:
    assert ignores.dockerignore_rule(line, folder) == rule


def test_git_ignored_files_stay_out_but_not_the_locks_or_tests_the_build_reads(
    tmp_path: Path,
) -> None:
    """Mealie's dev data and .secret files stay out; a git-ignored lock the build reads stays in."""
    root = write_tree(
        tmp_path,
        {
            ".gitignore": ".secret\n*.db\npoetry.lock\ntests/output/\n.secret\n",
            "data/.gitignore": "*\n!.gitignore\n",
            ".github/.gitignore": "cache/\n",
            "node_modules/pkg/.gitignore": "*\n",
            ".venv/.gitignore": "*\n",
            "poetry.lock": "",
            "pyproject.toml": "",
        },
    )
    assert ignores.git_ignores(root) == (
        ["**/.secret", "**/*.db", ".github/**/cache", "data/**/*", "!data/**/.gitignore"],
        ["**/poetry.lock", "tests/output"],
    )


def test_the_lines_init_adds_to_gitignore_are_not_read(tmp_path: Path) -> None:
    """Init appends its block to .gitignore: a second init must render the same .dockerignore."""
    root = write_tree(tmp_path, {".gitignore": "*.db\n\n# shipyard\nresults/\nenv/.env*\n"})
    assert ignores.git_ignores(root, skip=("# shipyard", "results/", "env/.env*")) == (
        ["**/*.db"],
        [],
    )
