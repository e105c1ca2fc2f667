"""The one error edge behind every front end (``inv``, ``nox``, ``shipyard``).

Whatever ends a command, the user gets the same answer everywhere: a
ShipyardError is ``ERROR:``, details and ``TIP:`` with its exit status (a
failed docker command is first checked against an engine that is down);
Ctrl-C is one line and 130, SIGTERM one line and 143; a closed pipe
(``inv status | head``) is silent, 141; anything else is a bug in shipyard:
one line saying where its traceback was written, and 70.
"""

from __future__ import annotations

import sys

from shipyard.core import engine
from shipyard.core.errors import (
    BUG_EXIT_CODE,
    ShipyardError,
    Terminated,
    interrupt_exit_code,
    report_bug,
)
from shipyard.core.process import Runner

BROKEN_PIPE = 141


def outcome(exc: BaseException, runner: Runner) -> tuple[str, int]:
    """Return what to print (maybe nothing) and the exit status for ``exc``."""
    if isinstance(exc, ShipyardError):
        error = engine.diagnose(exc, runner)
        return error.render(), error.exit_code
    if isinstance(exc, BrokenPipeError):  # the reader left; stop Python complaining at exit
        sys.stderr.close()
        return "", BROKEN_PIPE
    if isinstance(exc, KeyboardInterrupt):
        what = "stopped by SIGTERM" if isinstance(exc, Terminated) else "interrupted (Ctrl-C)"
        return f"ERROR: {what}", interrupt_exit_code(exc)
    return report_bug(exc), BUG_EXIT_CODE


def say(message: str) -> None:
    """Print an edge's message on stderr (nothing when there is none)."""
    if message:
        print(message, file=sys.stderr, flush=True)  # noqa: T201 - the edge speaks
