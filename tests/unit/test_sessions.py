"""The nox edge: errors become session.error text, interrupts become shell exit codes."""

from __future__ import annotations

from typing import Any, cast

import pytest

from shipyard.core.errors import ConfigError
from shipyard.sessions import nox_edge
from shipyard.testing.testrun import NoTestsCollected


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


def test_a_failed_command_is_nox_own_failure_not_a_bug() -> None:
    """nox.command.CommandFailed (hadolint exited 1) passes through: nox says which command."""
    from nox.command import CommandFailed  # noqa: PLC0415 - nox only where a noxfile runs

    _, error = run(CommandFailed("Returned code 1"), CommandFailed)
    assert str(error) == "Returned code 1"


def test_an_error_with_a_status_of_its_own_ends_nox_with_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Pytest's 5 (no test collected) is said as ERROR/TIP and stays nox's exit status."""
    _, error = run(NoTestsCollected(["pytest", "-k", "x"]), SystemExit)
    assert error.args == (5,)
    said = capsys.readouterr().err
    assert said.startswith("ERROR: pytest collected no test in the test image (exit 5)")
    assert "\nTIP: " in said
