"""Nox session bodies that any project's noxfile can reuse.

They run processes through shipyard's own runner (streaming, echoed) and turn
a ShipyardError into ``session.error`` with the ``ERROR``/``TIP`` text, so a
failing session never ends in a traceback.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from shipyard.core import edge
from shipyard.core.config import read_toml
from shipyard.core.errors import ShipyardError
from shipyard.core.process import SubprocessRunner, sigterm_as_interrupt
from shipyard.core.workspace import Workspace, display_path, open_workspace
from shipyard.env.environment import resolve
from shipyard.stack import builds, lintrules
from shipyard.testing import testrun

if TYPE_CHECKING:
    import nox

SessionBody = Callable[["nox.Session"], None]


def _workspace() -> Workspace:
    return open_workspace(SubprocessRunner())


def nox_edge(body: SessionBody) -> SessionBody:
    """Run ``body`` through the one error edge (:mod:`shipyard.core.edge`).

    A ShipyardError fails the session (nox goes on to the next one and exits
    1), unless it carries a status of its own (pytest's 5), which ends nox
    with that status; nox's own exceptions (a command the session ran failed, ``session.error``,
    ``session.skip``) are nox's to report; anything else ends nox with the edge's
    status (130, 143, 70).
    """

    @functools.wraps(body)
    def run(session: nox.Session) -> None:
        try:
            with sigterm_as_interrupt():
                body(session)
        except (Exception, KeyboardInterrupt) as exc:
            if type(exc).__module__.partition(".")[0] == "nox":
                raise
            message, code = edge.outcome(exc, SubprocessRunner(echo=False))
            if isinstance(exc, ShipyardError) and code == 1:
                session.error("\n" + message)  # a status of its own (pytest's 5) ends nox with it
            edge.say(message)
            raise SystemExit(code) from None

    return run


@nox_edge
def install_dev(session: nox.Session) -> None:
    """Install the project (editable) and its ``dev`` dependency group into the session."""
    import nox.project  # noqa: PLC0415 - nox is only there when a noxfile runs

    groups = nox.project.dependency_groups(read_toml(Path("pyproject.toml")), "dev")
    session.install("-e", ".", *groups)


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
    ws.require_engine()  # before the test env file is made on first use
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
