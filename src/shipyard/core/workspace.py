"""The bottom of the house: what every action needs (runner, engine, stack), and git.

The invoke tasks, nox sessions and the CLI each open one Workspace and pass
it down; nothing below them discovers the stack or the engine again.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.core.config import Stack, load_stack
from shipyard.core.engine import Engine, cached_engine, require
from shipyard.core.process import Runner

IgnoredBy = Callable[[Path], bool | None]


def _stderr(message: str) -> None:
    print(f"shipyard: {message}", file=sys.stderr, flush=True)  # noqa: T201 - the default notice


def display_path(path: Path, cwd: Path | None = None) -> str:
    """Return ``path`` relative to ``cwd`` when it lies below it, else absolute."""
    here = cwd or Path.cwd()
    try:
        return str(path.relative_to(here))
    except ValueError:
        return os.fspath(path)


@dataclass(frozen=True)
class Workspace:
    """A runner, the engine's capabilities and the stack: all an action needs."""

    runner: Runner
    engine: Engine
    stack: Stack
    say: Callable[[str], None] = field(default=_stderr)
    _engine_answered: list[bool] = field(default_factory=list, compare=False, repr=False)

    def require_engine(self) -> None:
        """Stop before any work when the engine does not answer (asked once per command)."""
        if not self._engine_answered:
            require(self.runner)
            self._engine_answered.append(True)


def host_user() -> dict[str, str]:
    """Return the host user's IDs for Compose, where the OS has them (not Windows).

    Generated dev services run as ``${SHIPYARD_UID:-1000}:${SHIPYARD_GID:-1000}``
    so that what they write in the bind-mounted source belongs to the user (on
    Linux the IDs cross the mount as they are; Docker Desktop maps them anyway).
    A value already in the environment wins: a rootless or remapped engine.
    """
    if not hasattr(os, "getuid"):
        return {}
    return {"SHIPYARD_UID": str(os.getuid()), "SHIPYARD_GID": str(os.getgid())}


def open_workspace(
    runner: Runner,
    *,
    start: Path | None = None,
    flags: dict[str, str | None] | None = None,
    say: Callable[[str], None] = _stderr,
) -> Workspace:
    """Discover the stack and the engine."""
    stack = load_stack(start, flags=flags)
    for key, value in host_user().items():
        os.environ.setdefault(key, value)  # what Compose interpolates into a dev service's user
    engine = cached_engine(
        runner, builder=stack.builder, compose=stack.compose, cache=bool(stack.cache_ref)
    )
    return Workspace(runner, engine, stack, say)


def git_sha(ws: Workspace) -> str | None:
    """Return the short commit of the stack's checkout, or None outside git."""
    result = ws.runner.run(
        ["git", "-C", display_path(ws.stack.root), "rev-parse", "--short", "HEAD"],
        capture=True,
        check=False,
        query=True,
    )
    return (result.stdout.strip() or None) if result.ok else None


def git_ignored(ws: Workspace) -> IgnoredBy:
    """Return a function telling whether git ignores a path (None outside a checkout)."""

    def ignored(path: Path) -> bool | None:
        result = ws.runner.run(
            [
                "git",
                "-C",
                display_path(ws.stack.root),
                "check-ignore",
                "--quiet",
                display_path(path),
            ],
            capture=True,
            check=False,
            query=True,
        )
        return {0: True, 1: False}.get(result.returncode)

    return ignored
