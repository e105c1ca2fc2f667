"""The folders this machine built from, so their per-checkout tags can go with them.

Every build also tags its images for its checkout (``<name>:<tag>-at-<id>``,
the id a digest of the folder), so two checkouts of one project on one engine
each test their own code. A CI runner clones into a new folder for every job,
and those tags would pile up, an image each. So each build records its
checkout's folder (``$XDG_STATE_HOME/shipyard/checkouts.json``), and ``inv
gc``, like the start of every test run, removes the tags of checkouts whose
folder is gone. A tag no record names (built on another machine, or by an
older shipyard) stays.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from shipyard.core.cache import read_json, state_dir, write_json

AT = re.compile(r"-at-([0-9a-f]{10})$")


def record_file() -> Path:
    """Return the file mapping checkout ids to their folders."""
    return state_dir() / "checkouts.json"


def _load() -> dict[str, str]:
    found = read_json(record_file())
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def _save(known: dict[str, str]) -> None:
    try:
        write_json(record_file(), known)
    except OSError:  # unrecorded, its tags only stay: never a reason to fail a build
        return


def remember(checkout: str, root: Path) -> None:
    """Record that ``checkout`` is the folder ``root``."""
    known = _load()
    if known.get(checkout) != str(root):
        _save({**known, checkout: str(root)})


def gone(tags: Iterable[str]) -> list[tuple[str, str]]:
    """Return (tag, folder) of the per-checkout tags whose recorded folder no longer exists."""
    known = _load()
    found = []
    for tag in tags:
        match = AT.search(tag)
        if match and match[1] in known and not Path(known[match[1]]).is_dir():
            found.append((tag, known[match[1]]))
    return found


def forget(tags: Iterable[str]) -> None:
    """Drop the records of the checkouts of ``tags`` (their tags were removed)."""
    known = _load()
    ids = {match[1] for tag in tags if (match := AT.search(tag))}
    if ids & set(known):
        _save({k: v for k, v in known.items() if k not in ids})
