"""Nox session bodies that any project's noxfile can reuse.

They run processes through shipyard's own runner (streaming, echoed) and turn
a ShipyardError into ``session.error`` with the ``ERROR``/``TIP`` text, so a
failing session never ends in a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from shipyard import builds, engine, lintrules, testrun
from shipyard.environment import resolve
from shipyard.errors import BUG_EXIT_CODE, ShipyardError, interrupt_exit_code, report_bug
from shipyard.process import SubprocessRunner
from shipyard.workspace import Workspace, display_path, open_workspace

if TYPE_CHECKING:
    import nox

SessionBody = Callable[["nox.Session"], None]


def _workspace() -> Workspace:
    return open_workspace(SubprocessRunner())


def nox_edge(body: SessionBody) -> SessionBody:
    """Run ``body``; a ShipyardError fails the session with its rendered message.

    An interrupt ends nox with 130 (Ctrl-C) or 143 (SIGTERM), as a shell would.
    """

    @functools.wraps(body)
    def run(session: nox.Session) -> None:
        try:
            body(session)
        except ShipyardError as exc:
            session.error("\n" + engine.diagnose(exc, SubprocessRunner(echo=False)).render())
        except KeyboardInterrupt as exc:  # Ctrl-C or SIGTERM, after the teardown ran
            code = interrupt_exit_code(exc)
            session.log(f"interrupted: everything the run started was removed (exit {code})")
            raise SystemExit(code) from None
        except Exception as exc:  # noqa: BLE001 - the one catch-all: a bug, said in one line
            session.log(report_bug(exc))
            raise SystemExit(BUG_EXIT_CODE) from None

    return run


@nox_edge
def docker_build(session: nox.Session) -> None:
    """Build the images of the environments named in posargs, or of every environment."""
    ws = _workspace()
    images = builds.images_of_environments(ws, session.posargs)
    for tag in builds.build_images(ws, images):
        session.log(f"built {tag}")


@nox_edge
def docker_test(session: nox.Session) -> None:
    """Run the service's tests inside the test image; exit with pytest's status.

    posargs go to pytest (``nox -s docker-test -- -k name -x``). A failing
    pytest ends the whole nox run with pytest's own exit status, as CI expects.
    """
    ws = _workspace()
    status = testrun.docker_test(ws, resolve(ws, ws.stack.test_env), session.posargs)
    if status:
        session.log(f"pytest exited {status} inside the test image")
        raise SystemExit(status)


@nox_edge
def lint_stack(session: nox.Session) -> None:
    """Check the stack: hadolint and compose per overlay, secrets everywhere, env files."""
    ws = _workspace()
    problems, dockerfiles = lintrules.lint_stack(ws, log=session.log)
    for dockerfile in dockerfiles:
        session.run("hadolint", display_path(dockerfile))
    if problems:
        raise ShipyardError(
            f"{len(problems)} problem(s) in the stack's files",
            details="\n".join(problems),
            tip="fix each line above, then run 'nox -s lint' again",
        )
