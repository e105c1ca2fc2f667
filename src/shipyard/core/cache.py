"""Answers worth keeping between commands, each under the digest of everything it depends on.

Compose's merged model and what the engine can do cost a subprocess each
(0.04-0.08 s) and change only when their inputs change; ``inv`` runs are
short, so they are read once per change, not once per command. An entry is
one file per question (``<name>.json``) holding the key it was read under: a
new key overwrites it, so the cache never grows past one answer per
question. Entries may hold interpolated env values: the folder is the
user's own (``$XDG_CACHE_HOME/shipyard``, ``%LOCALAPPDATA%/shipyard/cache``) and
files are written readable by the user alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from shipyard import __version__


def cache_dir() -> Path:
    """Return shipyard's cache folder for this user."""
    if os.name == "nt":  # pragma: no cover - Windows keeps caches under LOCALAPPDATA
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "shipyard" / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "shipyard"


def state_dir() -> Path:
    """Return shipyard's folder for what it records on this machine (not a cache)."""
    if os.name == "nt":  # pragma: no cover - Windows keeps state under LOCALAPPDATA
        return (
            Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local") / "shipyard"
        )
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "shipyard"


def read_json(path: Path) -> Any:  # noqa: ANN401 - whatever the file holds
    """Return a state file's JSON; None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_json(path: Path, data: object) -> None:
    """Write a state file whole (aside, then renamed), readable by the user alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    partial.chmod(0o600)
    partial.replace(path)


def digest(parts: Iterable[str]) -> str:
    """Return the SHA-256 of ``parts`` (and shipyard's version: a new release reads anew)."""
    hashed = hashlib.sha256(__version__.encode())
    for part in parts:
        hashed.update(b"\0" + part.encode("utf-8", "surrogateescape"))
    return hashed.hexdigest()


def file_part(path: Path) -> str:
    """Return a key part for a file's content (or its absence)."""
    try:
        return f"{path}={hashlib.sha256(path.read_bytes()).hexdigest()}"
    except OSError:
        return f"{path}=missing"


def stat_part(path: Path) -> str:
    """Return a key part for a file or folder's identity: size and modification time."""
    try:
        found = path.stat()
    except OSError:
        return f"{path}=missing"
    return f"{path}={found.st_size}:{found.st_mtime_ns}"


def _path(name: str) -> Path:
    return cache_dir() / f"{name}.json"


def read(name: str, key: str) -> str | None:
    """Return the answer kept under ``name`` for ``key``; None when absent or read under another."""
    try:
        entry = json.loads(_path(name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != key:
        return None
    value = entry.get("value")
    return value if isinstance(value, str) else None


def write(name: str, key: str, value: str) -> None:
    """Keep ``value`` under ``name`` for ``key``; a cache that cannot be written is no cache."""
    folder = cache_dir()
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written aside and renamed: a reader never sees half an entry.
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:  # mkstemp's file: mode 0600
            json.dump({"key": key, "value": value}, out)
        Path(temporary).replace(_path(name))
    except OSError:
        return
