"""The invoke edge: open a Workspace from a Context, turn errors into clean exits."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import Task

from shipyard.core.process import InvokeRunner, sigterm_as_interrupt
from shipyard.tasks._lazy import lazy

if TYPE_CHECKING:
    from shipyard.core import edge
    from shipyard.core import workspace as workspaces
    from shipyard.core.workspace import Workspace
else:
    edge = lazy("shipyard.core.edge")
    workspaces = lazy("shipyard.core.workspace")

P = ParamSpec("P")
R = TypeVar("R")


def workspace(c: Context, **flags: str | None) -> Workspace:
    """Open the Workspace of the current folder, with ``flags`` winning over all config."""
    return workspaces.open_workspace(InvokeRunner(c), flags=flags)


def shipyard_task(
    help: dict[str, str] | None = None,  # noqa: A002 - invoke's own name for it
    iterable: list[str] | None = None,
) -> Callable[[Callable[Concatenate[Context, P], R]], Task[Callable[..., R]]]:
    """Declare an invoke task that ends through the one error edge (:mod:`shipyard.core.edge`)."""

    def decorate(body: Callable[Concatenate[Context, P], R]) -> Task[Callable[..., R]]:
        @functools.wraps(body)
        def run(c: Context, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                with sigterm_as_interrupt():
                    return body(c, *args, **kwargs)
            except Exit:  # a task called from another already said its ERROR
                raise
            except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - the one edge
                message, code = edge.outcome(exc, InvokeRunner(c))
                edge.say(message)
                raise Exit(code=code) from None

        return Task(run, help=help or {}, iterable=iterable or [])

    return decorate


def quiet_closed_pipe() -> None:
    """Make a closed pipe in invoke's own output (``inv --list | head``) silent, exit 141.

    Task bodies end through the edge; ``--list`` and ``--help`` are printed by
    invoke before any task runs, where only the interpreter's hook sees the
    BrokenPipeError (it printed invoke's traceback).
    """
    previous = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, BrokenPipeError):
            os._exit(edge.BROKEN_PIPE)  # the reader left: nothing to flush, nothing to say
        previous(kind, value, tb)

    sys.excepthook = hook
