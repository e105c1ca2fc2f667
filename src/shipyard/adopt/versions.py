"""The version a project pins a package to: its requirement lines, else its lock."""

from __future__ import annotations

import re
from pathlib import Path

from shipyard.adopt.detect import normalize, requirement_files
from shipyard.core.config import read_toml


def pinned_version(root: Path, name: str) -> str | None:
    """Return the version the project pins ``name`` to (``name==X`` anywhere, or its lock)."""
    pattern = re.compile(
        rf"^\s*{re.escape(name)}(?:\[[^\]]*\])?\s*==\s*([\w.+!-]+)", re.IGNORECASE | re.MULTILINE
    )
    pyproject = read_toml(root / "pyproject.toml").get("project", {})
    texts = [path.read_text(encoding="utf-8", errors="replace") for path in requirement_files(root)]
    texts += [str(d) for d in pyproject.get("dependencies", [])]
    for text in texts:
        if match := pattern.search(text):
            return match.group(1)
    return locked_version(root, name)


def locked_version(root: Path, name: str) -> str | None:
    """Return the version uv.lock or poetry.lock pins ``name`` to, if either does."""
    for lock in ("uv.lock", "poetry.lock"):
        for package in read_toml(root / lock).get("package", []):
            if normalize(str(package.get("name", ""))) == name and package.get("version"):
                return str(package["version"])
    return None
