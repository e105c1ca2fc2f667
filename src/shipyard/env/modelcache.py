"""The key of Compose's merged model: everything ``docker compose config`` reads.

That is the command itself (files, env files, project, profiles) and the
folder it runs in; the content of each compose file and of the files they
name (``include:`` and what it includes, ``extends: file:``, services'
``env_file:``), the ``--env-file`` files and the ``.env`` Compose reads when
none is given; and the value (or absence) of every variable of the
environment that those files name, with every ``COMPOSE_*`` and ``DOCKER_*``
one. A path written with a variable in it (``env_file: .env.${STAGE}``) is
not followed; the variable itself is in the key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from shipyard.core import cache
from shipyard.core.compose import load_yaml
from shipyard.core.errors import ConfigError

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ALWAYS = ("COMPOSE_", "DOCKER_")


def _paths(value: Any, key: str = "path") -> list[str]:  # noqa: ANN401 - raw YAML
    """Return the paths a raw ``include:``/``env_file:`` value names (str, dicts, lists)."""
    items = value if isinstance(value, list) else [value]
    found: list[str] = []
    for item in items:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, Mapping):
            found += _paths(item.get(key) or [], key)
            if key == "path":  # an include's own env files
                found += _paths(item.get("env_file") or [])
    return found


def _named(path: Path, data: Mapping[str, Any]) -> list[Path]:
    """Return the files one compose file names: includes, extended files, env files."""
    here = path.parent
    names = _paths(data.get("include") or [])
    for spec in (data.get("services") or {}).values():
        if not isinstance(spec, Mapping):
            continue
        extends = spec.get("extends")
        if isinstance(extends, Mapping) and isinstance(extends.get("file"), str):
            names.append(extends["file"])
        names += _paths(spec.get("env_file") or [])
    return [here / name for name in names if "$" not in name]


_NAMES_FILES = re.compile(r"\b(include|extends|env_file)\s*:")


def _names_files(path: Path) -> bool:
    """Tell whether a compose file may name other files (parsing YAML costs ~5 ms a file)."""
    try:
        return bool(_NAMES_FILES.search(path.read_text(encoding="utf-8", errors="replace")))
    except OSError:
        return False


def inputs(files: Sequence[Path], env_files: Sequence[Path]) -> list[Path]:
    """Return every file ``docker compose config`` over ``files`` may read, each once."""
    seen: dict[Path, None] = {}
    pending = [Path(f).resolve() for f in files]
    while pending:
        path = pending.pop(0)
        if path in seen:
            continue
        seen[path] = None
        if path.suffix in {".yml", ".yaml"} and _names_files(path):
            try:
                pending += [p.resolve() for p in _named(path, load_yaml(path))]
            except ConfigError:  # Compose reports a broken file; its bytes are in the key
                continue
    extra = [Path(f).resolve() for f in env_files]
    if files and not env_files:  # Compose reads the project folder's .env instead
        extra.append(Path(files[0]).resolve().parent / ".env")
    return [*seen, *(p for p in extra if p not in seen)]


def _names(paths: Iterable[Path]) -> set[str]:
    words: set[str] = set()
    for path in paths:
        try:
            words |= set(_WORD.findall(path.read_text(encoding="utf-8", errors="replace")))
        except OSError:
            continue
    return words


def model_key(
    argv: Sequence[str],
    files: Sequence[Path],
    env_files: Sequence[Path],
    environ: Mapping[str, str] | None = None,
) -> str:
    """Return the digest under which the model ``argv`` reads is kept."""
    environ = os.environ if environ is None else environ
    read = inputs(files, env_files)
    named = _names(read)
    variables = sorted(name for name in environ if name in named or name.startswith(_ALWAYS))
    return cache.digest(
        [
            "\0".join(argv),
            str(Path.cwd()),
            *(cache.file_part(path) for path in read),
            *(f"{name}={environ[name]}" for name in variables),
        ]
    )
