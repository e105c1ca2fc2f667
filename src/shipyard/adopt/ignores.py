"""What shipyard's builds of an adopted project leave out of the context, read from the project.

BuildKit reads shipyard's ``<Dockerfile>.dockerignore`` in place of the
project's own ``.dockerignore``, so the project's exclusions must carry over
(a secret key file, data, logs), and so must what git ignores: a checkout used
for development holds what a clean clone does not (a dev server's data, its
secret files, local settings, a SQLite database), and an image built there
must hold what CI's build from a clean clone holds, nothing more. Rules that
would leave out the tests or a file the build reads are dropped, and said.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable
from pathlib import Path

from shipyard.adopt.detect import Found

# A rule that would leave the suite out of the test image (tests/, conftest.py...).
TEST_RULE = re.compile(r"(^|[/*])(tests?|testing)(/|$)|test_|_test\b|conftest|pytest|tox\.ini")
# What the build reads: the metadata, the locks, the readme it declares, requirements.
NEEDED = ("*.toml", "setup.*", "*.lock", "README*", "*requirements*", "requirements/*")
# Folders whose own .gitignore files are not the project's (and are never built from).
NOT_SEARCHED = frozenset({".git", ".venv", "venv", ".nox", ".tox", "node_modules", "env"})


def _matches(rule: str, path: str) -> bool:
    """Return whether a dockerignore ``rule`` leaves out ``path`` (a file under the root)."""
    pattern = rule.strip("/")
    while pattern.startswith("**/"):
        pattern = pattern[3:]
        if fnmatch.fnmatch(path.rsplit("/", 1)[-1], pattern):
            return True
    return fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/")


def _kept(rules: Iterable[str], root: Path) -> tuple[list[str], list[str]]:
    """Split ``rules`` into those kept and those that leave out the tests or the build's files."""
    needed = [p.relative_to(root).as_posix() for pattern in NEEDED for p in root.glob(pattern)]
    kept: list[str] = []
    left: list[str] = []
    for rule in rules:
        positive = not rule.startswith("!")
        leaves_out = positive and any(_matches(rule, name) for name in needed)
        (left if TEST_RULE.search(rule.lstrip("!")) or leaves_out else kept).append(rule)
    return kept, left


def context_ignores(root: Path) -> Found:
    """Return the project's own .dockerignore rules that shipyard's builds keep."""
    path = root / ".dockerignore"
    if not path.is_file():
        return Found([], "no .dockerignore")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    kept, left = _kept((line for line in lines if line and not line.startswith("#")), root)
    why = f"; not {', '.join(left)} (the tests or the build need it)" if left else ""
    return Found(kept, f".dockerignore{why}")


def dockerignore_rule(line: str, folder: str = "") -> str | None:
    """Return the .dockerignore form of one .gitignore line in ``folder`` ("" at the root).

    A .gitignore pattern without a slash matches at any depth below its file
    (``**/`` in a .dockerignore, which anchors at the context's root); one
    with a slash is relative to its file's folder. The trailing slash of a
    folder-only pattern goes: a .dockerignore rule matches folders and files.
    """
    line = line.rstrip()
    if line.endswith("\\"):  # an escaped trailing space
        line += " "
    if not line or line.startswith("#"):
        return None
    negate, line = ("!", line[1:]) if line.startswith("!") else ("", line)
    line = line.removeprefix("\\")  # \# and \! stand for the character itself
    pattern = line.rstrip("/")
    if not pattern:
        return None
    anchored = "/" in pattern
    pattern = pattern.lstrip("/")
    if not anchored and not pattern.startswith("**"):
        pattern = "**/" + pattern
    return negate + (f"{folder}/{pattern}" if folder else pattern)


def _gitignore_files(root: Path) -> list[Path]:
    """Return the project's .gitignore files, the root's first, then by folder."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in NOT_SEARCHED)
        if ".gitignore" in files:
            found.append(Path(folder) / ".gitignore")
    return found


def git_ignores(root: Path, skip: Iterable[str] = ()) -> tuple[list[str], list[str]]:
    """Return the .dockerignore forms of the project's .gitignore rules: (kept, dropped).

    Dropped are the rules that would leave out the tests or a file the build
    reads (a lock or requirements file the project keeps out of git but builds
    from). Lines in ``skip`` (those init adds to .gitignore) are not read: the
    generated file must not change because init ran.
    """
    skipped = {line.strip() for line in skip}
    rules: list[str] = []
    for path in _gitignore_files(root):
        folder = path.parent.relative_to(root).as_posix()
        folder = "" if folder == "." else folder
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip() in skipped:
                continue
            rule = dockerignore_rule(line, folder)
            if rule is not None and rule not in rules:
                rules.append(rule)
    return _kept(rules, root)
