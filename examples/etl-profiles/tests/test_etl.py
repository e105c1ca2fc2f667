"""The platform's own tests, run inside the test image against the stack's database."""

from __future__ import annotations

import json

import pytest

from etl import db, waitdb


@pytest.fixture
def conn():  # type: ignore[no-untyped-def]
    with db.connect() as connection:
        db.ensure_schema(connection)
        yield connection


def test_a_scheduled_run_is_finished_once(conn) -> None:  # type: ignore[no-untyped-def]
    run = db.schedule(conn)
    finished = []
    while (done := db.claim_and_finish(conn)) is not None:
        finished.append(done)
    assert run in finished
    assert db.claim_and_finish(conn) is None


def test_wait_for_the_database_logs_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert waitdb.wait(timeout=10)
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert line["event"] == "database ready"


def test_wait_gives_up_at_its_deadline(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POSTGRES_HOST", "no-such-host.invalid")
    assert not waitdb.wait(timeout=1, interval=0.2)
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert (last["level"], last["event"]) == ("error", "database unreachable")
