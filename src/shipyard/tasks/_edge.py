"""The invoke edge: open a Workspace from a Context, turn errors into clean exits."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import Task

from shipyard import engine
from shipyard.errors import BUG_EXIT_CODE, ShipyardError, interrupt_exit_code, report_bug
from shipyard.process import InvokeRunner
from shipyard.workspace import Workspace, open_workspace

P = ParamSpec("P")
R = TypeVar("R")
BROKEN_PIPE = 141


def workspace(c: Context, **flags: str | None) -> Workspace:
    """Open the Workspace of the current folder, with ``flags`` winning over all config."""
    return open_workspace(InvokeRunner(c), flags=flags)


def shipyard_task(
    help: dict[str, str] | None = None,  # noqa: A002 - invoke's own name for it
    iterable: list[str] | None = None,
) -> Callable[[Callable[Concatenate[Context, P], R]], Task[Callable[..., R]]]:
    """Declare an invoke task whose ShipyardErrors end as ``ERROR``/``TIP`` and an exit status."""

    def decorate(body: Callable[Concatenate[Context, P], R]) -> Task[Callable[..., R]]:
        @functools.wraps(body)
        def run(c: Context, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return body(c, *args, **kwargs)
            except ShipyardError as exc:
                error = engine.diagnose(exc, InvokeRunner(c))
                print(error.render(), file=sys.stderr, flush=True)
                raise Exit(code=error.exit_code) from None
            except BrokenPipeError:  # `inv status | head`: the reader left; nothing to say
                sys.stderr.close()
                raise Exit(code=BROKEN_PIPE) from None
            except KeyboardInterrupt as exc:
                print("ERROR: interrupted", file=sys.stderr, flush=True)
                raise Exit(code=interrupt_exit_code(exc)) from None
            except Exit:  # a task called from another already said its ERROR
                raise
            except Exception as exc:  # noqa: BLE001 - the one catch-all: a bug, said in one line
                print(report_bug(exc), file=sys.stderr, flush=True)
                raise Exit(code=BUG_EXIT_CODE) from None

        return Task(run, help=help or {}, iterable=iterable or [])

    return decorate
