from __future__ import annotations

import json
from functools import partial

import pytest

from shipyard.core.compose import Container
from shipyard.core.errors import StackNotReady
from shipyard.stack import health
from shipyard.stack.health import wait_until_ready
from tests.unit.fakes import FakeRunner


def compose(*args: str) -> list[str]:
    return ["docker", "compose", "-p", "p", *args]


def ps(*rows: tuple[str, str, str, int]) -> str:
    return "\n".join(
        json.dumps(
            {
                "ID": f"id-{svc}",
                "Name": f"p-{svc}-1",
                "Service": svc,
                "State": state,
                "Health": health,
                "ExitCode": code,
            }
        )
        for svc, state, health, code in rows
    )


class Clock:
    """A clock that advances only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def scripted(polls: list[str], *, health: str = "null", logs: str = "") -> FakeRunner:
    answers = iter(polls)

    def script(argv: list[str]) -> tuple[int, str]:
        if argv[-3:] == ["ps", "--all", "--format"] or argv[-4:-1] == ["ps", "--all", "--format"]:
            return 0, next(answers)
        if argv[:2] == ["docker", "inspect"]:
            return 0, health
        if "logs" in argv:
            return 0, logs
        raise AssertionError(argv)

    return FakeRunner(script)


def waiter(runner: FakeRunner, clock: Clock, timeout: float = 10) -> partial[list[Container]]:
    return partial(
        wait_until_ready,
        runner,
        compose,
        timeout=timeout,
        logs_tip="TIP",
        clock=clock,
        poll=1.0,  # round numbers; the default polls 4 times a second
    )


def test_ready_once_services_are_healthy_and_jobs_done() -> None:
    """Polls until every service is healthy and the job has exited 0."""
    runner = scripted(
        [
            ps(("api", "running", "starting", 0), ("migrate", "running", "", 0)),
            ps(("api", "running", "starting", 0), ("migrate", "exited", "", 0)),
            ps(("api", "running", "healthy", 0), ("migrate", "exited", "", 0)),
        ]
    )
    clock = Clock()
    said: list[str] = []
    containers = waiter(runner, clock)(say=said.append, jobs={"migrate"})
    assert [c.service for c in containers] == ["api", "migrate"]
    assert clock.now == 2.0
    assert said == ["migrate exited 0 after 1.0s", "api healthy after 2.0s"]  # once each
    assert runner.argvs == [compose("ps", "--all", "--format", "json")] * 3


def test_times_count_from_the_start_of_up_when_given() -> None:
    """`up` waited 4 s for the database's health: it was healthy 4 s after the start, not 0."""
    runner = scripted([ps(("db", "running", "healthy", 0))])
    clock = Clock()
    clock.now = 10.0
    said: list[str] = []
    waiter(runner, clock)(say=said.append, since=6.0)
    assert said == ["db healthy after 4.0s"]


def test_a_running_job_is_not_ready_until_it_exits() -> None:
    """A job has no health check: while it runs it must not pass as ready (it may yet fail)."""
    runner = scripted(
        [
            ps(("db", "running", "healthy", 0), ("migrate", "running", "", 0)),
            ps(("db", "running", "healthy", 0), ("migrate", "exited", "", 3)),
        ],
        logs="migration exploded\n",
    )
    clock = Clock()
    with pytest.raises(StackNotReady, match=r"migrate \(exited \(3\)\) stopped"):
        waiter(runner, clock)(jobs={"migrate"})
    assert clock.now == 1.0  # it waited one poll instead of calling the stack ready


def test_failed_job_fails_at_once_with_exit_code_and_logs() -> None:
    """A job exiting 3 stops the wait on the first poll, showing its logs."""
    runner = scripted(
        [ps(("api", "created", "", 0), ("migrate", "exited", "", 3))],
        logs="migrate: relation missing\n",
    )
    clock = Clock()
    with pytest.raises(StackNotReady) as caught:
        waiter(runner, clock)()
    assert caught.value.message == "migrate (exited (3)) stopped"
    assert caught.value.details == (
        "migrate: exited (3)\n  last 20 log lines:\n    migrate: relation missing"
    )
    assert clock.now == 0.0
    assert runner.argvs[-1] == compose(
        "logs", "--no-color", "--no-log-prefix", "--tail", "200", "migrate"
    )


def test_an_unhealthy_service_fails_at_once_with_its_last_check_and_logs() -> None:
    """Docker's unhealthy (start period over, every retry failed) ends the wait, diagnosed."""
    health = json.dumps(
        {
            "Status": "unhealthy",
            "Log": [
                {"ExitCode": 1, "Output": "old"},
                {"ExitCode": 1, "Output": "unreachable: refused\n"},
            ],
        }
    )
    runner = scripted(
        [ps(("api", "running", "unhealthy", 0), ("db", "running", "healthy", 0))] * 20,
        health=health,
        logs="boot\nlistening\n",
    )
    clock = Clock()
    with pytest.raises(StackNotReady) as caught:
        waiter(runner, clock, timeout=3)()
    assert caught.value.message == "api (running (unhealthy)) failed its health check"
    assert clock.now == 0.0
    assert caught.value.details == (
        "api: running (unhealthy)\n"
        "  last health check: exit 1: unreachable: refused\n"
        "  last 20 log lines:\n    boot\n    listening"
    )
    assert caught.value.tip == "TIP"
    assert ["docker", "inspect", "--format", "{{json .State.Health}}", "id-api"] in runner.argvs


def test_readiness_is_seen_within_a_quarter_second() -> None:
    """By default the stack is polled every 0.25 s: readiness is noticed when it happens."""
    runner = scripted(
        [ps(("api", "running", "starting", 0))] * 3 + [ps(("api", "running", "healthy", 0))]
    )
    clock = Clock()
    wait_until_ready(runner, compose, timeout=10, logs_tip="TIP", clock=clock)
    assert clock.now == 0.75


def test_no_containers_is_not_ready() -> None:
    """An empty stack never counts as ready."""
    runner = scripted([""] * 5)
    with pytest.raises(StackNotReady, match="waiting for any container"):
        waiter(runner, Clock(), timeout=2)()


def _row(service: str, state: str, health: str, status: str) -> str:
    return json.dumps(
        {
            "ID": f"id-{service}",
            "Name": f"p-{service}-1",
            "Service": service,
            "State": state,
            "Health": health,
            "ExitCode": 0,
            "Status": status,
        }
    )


def test_a_crash_loop_is_never_ready() -> None:
    """Running for an instant between restarts is not ready: restarting fails with its exit."""
    runner = scripted(
        [
            _row("worker", "running", "", "Up Less than a second"),
            _row("worker", "restarting", "", "Restarting (3) 1 second ago"),
        ],
        logs="PermissionError: [Errno 13] Permission denied: '/app/app.log'\n",
    )
    clock = Clock()
    with pytest.raises(StackNotReady) as caught:
        waiter(runner, clock)()
    assert caught.value.message == "worker (restarting (exit 3)) stopped"
    assert "Permission denied: '/app/app.log'" in caught.value.details
    assert clock.now == 1.0


def test_a_service_without_a_check_is_ready_once_it_has_run_the_settle_time() -> None:
    """No health check: ready at 'Up 2 seconds', not at 'Up 1 second'."""
    runner = scripted(
        [
            _row("beat", "running", "", "Up Less than a second"),
            _row("beat", "running", "", "Up 1 second"),
            _row("beat", "running", "", "Up 2 seconds"),
        ]
    )
    clock = Clock()
    said: list[str] = []
    waiter(runner, clock)(say=said.append)
    assert said == ["beat running after 2.0s"]


def test_a_run_of_repeated_log_lines_folds_into_one() -> None:
    """The error after 18 warning lines is in the tail, the warnings folded."""
    warning = "[2026-12-02 19:01:{:02d}: WARNING/MainProcess] ^"
    lines = ["booting", *(warning.format(n) for n in range(18)), "PermissionError: /app/x"]
    assert health.folded(lines) == [
        "booting",
        warning.format(0),
        "(the line above 17 more times)",
        "PermissionError: /app/x",
    ]
    assert health.folded(["a", "a"]) == ["a", "(the line above 1 more time)"]
