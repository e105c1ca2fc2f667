"""The one error hierarchy: every user-facing failure is a ShipyardError.

Each error formats its own message and a TIP saying what to do next; only the
edges (the invoke task wrapper, the nox session wrapper, ``python -m
shipyard``) turn them into an exit status, so no user mistake ends in a
traceback.
"""

from __future__ import annotations

import difflib
import os
import shlex
import tempfile
import traceback
from collections.abc import Sequence

_TAIL_LINES = 20


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.rstrip().splitlines())


def tail(text: str, lines: int = _TAIL_LINES) -> str:
    """Return the last ``lines`` lines of ``text``."""
    return "\n".join(text.rstrip().splitlines()[-lines:])


class ShipyardError(Exception):
    """A failure the user can act on: a message, optional details and a tip."""

    exit_code = 1

    def __init__(self, message: str, *, tip: str | None = None, details: str = "") -> None:
        """Keep the parts; ``str()`` gives the rendered form."""
        super().__init__(message)
        self.message = message
        self.tip = tip
        self.details = details

    def render(self) -> str:
        """Render as ``ERROR: ...``, indented details, then ``TIP: ...``."""
        parts = [f"ERROR: {self.message}"]
        if self.details:
            parts.append(_indent(self.details))
        if self.tip:
            parts.append(f"TIP: {self.tip}")
        return "\n".join(parts)

    def __str__(self) -> str:
        """Return the rendered message."""
        return self.render()


class ConfigError(ShipyardError):
    """The project layout or [tool.shipyard] is wrong (unknown environment, bad key...)."""


class EnvFileError(ShipyardError):
    """An env file is missing or does not parse."""


class EngineError(ShipyardError):
    """Docker, its engine, or Docker Compose is missing or not reachable."""


class CommandFailed(ShipyardError):
    """A command exited non-zero; shown as command / return code / stdout / stderr."""

    def __init__(
        self,
        argv: Sequence[str],
        returncode: int,
        *,
        stdout: str = "",
        stderr: str = "",
        message: str | None = None,
        tip: str | None = None,
    ) -> None:
        """Record the command and what it printed."""
        self.argv = list(argv)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        lines = [f"command: {shlex.join(self.argv)}", f"return code: {returncode}"]
        for name, text in (("stdout", stdout), ("stderr", stderr)):
            if text.strip():
                lines += [f"{name}:", _indent(tail(text))]
        super().__init__(
            message or f"command failed: {self.argv[0]}", tip=tip, details="\n".join(lines)
        )
        self.exit_code = returncode if 0 < returncode < 256 else 1  # noqa: PLR2004


class BuildFailed(ShipyardError):
    """An image did not build: the failing step, its last lines, and the fix."""


class StackNotReady(ShipyardError):
    """A service never became healthy, or a one-shot job did not exit 0."""


class CommandTimedOut(ShipyardError):
    """A command ran longer than it was allowed to and was stopped."""

    def __init__(self, argv: Sequence[str], timeout: float) -> None:
        """Record the command and its limit."""
        self.argv = list(argv)
        self.timeout = timeout
        super().__init__(f"timed out after {timeout:g}s: {shlex.join(self.argv)}")


class Interrupted(ShipyardError):
    """The run was interrupted (Ctrl-C); everything it started was removed."""

    exit_code = 130


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every ``finally`` (teardown) runs."""

    exit_code = 143


def interrupt_exit_code(interrupt: KeyboardInterrupt) -> int:
    """Return the conventional exit status: 143 after SIGTERM, 130 after Ctrl-C."""
    return Terminated.exit_code if isinstance(interrupt, Terminated) else Interrupted.exit_code


def did_you_mean(word: str, choices: Sequence[str]) -> str:
    """Return `` (did you mean 'x'?)`` for the closest of ``choices``, or ``""``."""
    if word in choices:
        return ""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


BUG_EXIT_CODE = 70  # EX_SOFTWARE: an internal error, not the user's


def report_bug(error: BaseException) -> str:
    """Write ``error``'s traceback to a file; return the one line that says where.

    An exception that is not a ShipyardError is a bug in shipyard: the user
    gets one line, and the traceback waits in a file for the bug report.
    """
    fd, path = tempfile.mkstemp(prefix="shipyard-crash-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        traceback.print_exception(error, file=handle)
    kind = type(error).__name__
    return (
        f"ERROR: shipyard failed unexpectedly ({kind}: {error}). This is a bug in shipyard, "
        f"not in your project; the traceback is in {path}: please attach it to a bug report"
    )
