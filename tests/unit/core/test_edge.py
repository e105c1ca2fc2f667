"""The one error edge: the three front ends answer every ending alike."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from invoke.context import Context, MockContext
from invoke.exceptions import Exit

from shipyard import __main__ as cli
from shipyard.core.errors import ConfigError, Terminated
from shipyard.sessions import nox_edge
from shipyard.tasks._edge import shipyard_task


class Quit(Exception):
    """What nox's session.error raises."""


class FakeSession:
    posargs: list[str] = []  # noqa: RUF012 - read-only here

    def error(self, *args: object) -> None:
        raise Quit(*args)

    def log(self, message: str) -> None:
        raise AssertionError(message)


def through_invoke(exc: BaseException) -> int:
    @shipyard_task()
    def task(c: Context) -> None:
        """Fail."""
        raise exc

    with pytest.raises(Exit) as caught:
        task(MockContext())
    return int(caught.value.code)


def through_nox(exc: BaseException) -> int:
    def body(_session: Any) -> None:
        raise exc

    with pytest.raises(SystemExit) as caught:
        nox_edge(body)(cast("Any", FakeSession()))
    return int(cast("int", caught.value.code))


def through_cli(exc: BaseException, monkeypatch: pytest.MonkeyPatch) -> int:
    def run(_argv: object) -> int:
        raise exc

    monkeypatch.setattr(cli, "run", run)
    return cli.main([])


EDGES: dict[str, Callable[..., int]] = {
    "inv": lambda exc, _mp: through_invoke(exc),
    "nox": lambda exc, _mp: through_nox(exc),
    "shipyard": through_cli,
}


@pytest.mark.parametrize("edge", EDGES)
@pytest.mark.parametrize(
    ("exc", "line", "code"),
    [
        (KeyboardInterrupt(), "ERROR: interrupted (Ctrl-C)", 130),
        (Terminated(15), "ERROR: stopped by SIGTERM", 143),
        (RuntimeError("boom"), "ERROR: shipyard failed unexpectedly (RuntimeError: boom).", 70),
    ],
)
def test_every_front_end_ends_alike(
    edge: str,
    exc: BaseException,
    line: str,
    code: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C 130, SIGTERM 143, a bug 70 with its traceback in a file: one line each."""
    assert EDGES[edge](exc, monkeypatch) == code
    err = capsys.readouterr().err
    assert err.startswith(line)
    assert err.count("\n") == 1
    if code == 70:
        saved = Path(err.split("the traceback is in ")[1].split(":")[0])
        assert "RuntimeError: boom" in saved.read_text()
        saved.unlink()


@pytest.mark.parametrize("edge", ["inv", "shipyard"])
def test_a_shipyard_error_is_error_and_tip_with_its_status(
    edge: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ERROR, then TIP, exit 1; nox fails the session with the same text (test_sessions)."""
    assert EDGES[edge](ConfigError("bad", tip="fix it"), monkeypatch) == 1
    assert capsys.readouterr().err == "ERROR: bad\nTIP: fix it\n"
