"""A start that fails: what it made is removed, unless the stack ran before it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shipyard.core.errors import StackNotReady
from shipyard.core.workspace import open_workspace
from shipyard.stack import stacks
from tests.unit.conftest import environment
from tests.unit.fakes import FakeRunner

TAKEN = "Error response from daemon: driver failed: Bind for 127.0.0.1:8000 failed: port is already allocated"


def ps_row(service: str, created: datetime) -> str:
    return json.dumps(
        {
            "ID": service,
            "Name": f"demo-app-dev-{service}-1",
            "Service": service,
            "State": "running" if service == "db" else "created",
            "Health": "",
            "ExitCode": 0,
            "CreatedAt": created.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"),
        }
    )


def failing_up(created: datetime) -> FakeRunner:
    def script(argv: list[str]) -> tuple[int, str, str]:
        if "up" in argv:
            return 1, "", TAKEN
        if "ps" in argv:
            return 0, ps_row("db", created) + "\n" + ps_row("api", datetime.now(UTC)), ""
        return 0, "", ""

    return FakeRunner(script)


def test_a_port_taken_on_a_stack_that_was_running_leaves_it(project: Path) -> None:
    """A port changed to a taken one: the running stack stays, and the error says so."""
    runner = failing_up(datetime.now(UTC) - timedelta(minutes=5))
    ws = open_workspace(runner)
    env = environment(project, "dev", {"db": {}, "api": {}})
    with pytest.raises(StackNotReady) as caught:
        stacks.start(ws, env, stacks.compose_for(ws, env), timeout=10)
    assert caught.value.message.startswith("a port the dev stack publishes is already taken")
    assert caught.value.details == (
        "the stack was running before this attempt: left as it is (db); a service whose "
        "port changed is stopped until it starts on a free one"
    )
    assert not any("down" in argv for argv in runner.argvs)


def test_a_first_start_that_fails_removes_what_it_made(project: Path) -> None:
    """Nothing ran before: the half-made stack is removed."""
    runner = failing_up(datetime.now(UTC) + timedelta(seconds=1))
    ws = open_workspace(runner)
    env = environment(project, "dev", {"db": {}, "api": {}})
    with pytest.raises(StackNotReady) as caught:
        stacks.start(ws, env, stacks.compose_for(ws, env), timeout=10)
    assert caught.value.details == ""
    assert any(argv[-2:] == ["down", "--remove-orphans"] for argv in runner.argvs)
