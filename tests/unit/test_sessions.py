"""The nox edge: errors become session.error text, interrupts become shell exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

from shipyard.errors import ConfigError, Terminated
from shipyard.sessions import nox_edge


class Quit(Exception):
    """What nox's session.error raises."""


class FakeSession:
    """The two methods of nox.Session the edge uses."""

    def __init__(self) -> None:
        self.logged: list[str] = []

    def error(self, *args: object) -> None:
        raise Quit(*args)

    def log(self, message: str) -> None:
        self.logged.append(message)


def run(
    body_error: BaseException, expected: type[BaseException]
) -> tuple[FakeSession, BaseException]:
    def body(_session: Any) -> None:
        raise body_error

    session = FakeSession()
    with pytest.raises(expected) as caught:
        nox_edge(body)(cast("Any", session))
    return session, caught.value


def test_shipyard_error_fails_the_session_with_its_text() -> None:
    """No traceback: the rendered ERROR/TIP is the session's failure reason."""
    _, error = run(ConfigError("unknown environment 'x'", tip="use dev"), Quit)
    assert error.args == ("\nERROR: unknown environment 'x'\nTIP: use dev",)


@pytest.mark.parametrize(("interrupt", "code"), [(KeyboardInterrupt(), 130), (Terminated(15), 143)])
def test_interrupts_exit_like_a_shell(interrupt: BaseException, code: int) -> None:
    """Ctrl-C ends nox with 130, SIGTERM with 143, after saying the run was cleaned up."""
    session, error = run(interrupt, SystemExit)
    assert cast("SystemExit", error).code == code
    assert session.logged == [f"interrupted: everything the run started was removed (exit {code})"]


def test_an_unexpected_exception_is_one_line_and_a_saved_traceback() -> None:
    """A bug: one line naming it and the file holding the traceback; nox exits 70."""
    session, error = run(RuntimeError("boom"), SystemExit)
    assert cast("SystemExit", error).code == 70
    [line] = session.logged
    assert line.startswith(
        "ERROR: shipyard failed unexpectedly (RuntimeError: boom). This is a bug"
    )
    saved = Path(line.split("the traceback is in ")[1].split(":")[0])
    assert "Traceback (most recent call last)" in saved.read_text()
    saved.unlink()
