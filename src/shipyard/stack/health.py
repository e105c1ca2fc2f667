"""Wait for a stack: healthy services and one-shot jobs that exited 0.

The runner and the clock are injected, so tests drive time and output. When
something goes wrong the error names the service, shows its last health-check
output and the tail of its logs: ``docker compose up --wait`` says only *that*
a service is unhealthy, never *why*.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Collection
from typing import Protocol

from shipyard.core.compose import Container, parse_ps
from shipyard.core.errors import StackNotReady, tail
from shipyard.core.process import Runner

Compose = Callable[..., list[str]]
LOG_TAIL = 20  # lines shown
LOG_READ = 200  # lines read, so that a run of repeats folds into one


def list_containers(runner: Runner, compose: Compose) -> list[Container]:
    """Return every container of the stack, jobs that have exited included."""
    return parse_ps(
        runner.run(compose("ps", "--all", "--format", "json"), capture=True, query=True).stdout
    )


def last_health_output(runner: Runner, container: Container | str) -> str:
    """Return the output of the container's (or container ID's) most recent health check."""
    cid = container if isinstance(container, str) else container.id
    result = runner.run(
        ["docker", "inspect", "--format", "{{json .State.Health}}", cid],
        capture=True,
        check=False,
        query=True,
    )
    try:
        health = json.loads(result.stdout or "null")
    except json.JSONDecodeError:
        return ""
    log = (health or {}).get("Log") or []
    if not log:
        return ""
    last = log[-1]
    output = str(last.get("Output", "")).strip()
    return f"exit {last.get('ExitCode')}: {output}" if output else f"exit {last.get('ExitCode')}"


def folded(lines: list[str]) -> list[str]:
    """Return ``lines`` with each run of repeats (the same but for digits) folded into one.

    Celery printed 20 lines of ``WARNING/MainProcess] ^`` before the error
    that mattered: the tail showed only them.
    """
    out: list[str] = []
    repeats = 0
    for line in [*lines, None]:
        same = line is not None and out and re.sub(r"\d", "", line) == re.sub(r"\d", "", out[-1])
        if same:
            repeats += 1
            continue
        if repeats:
            out.append(f"(the line above {repeats} more time{'s' if repeats > 1 else ''})")
            repeats = 0
        if line is not None:
            out.append(line)
    return out


def diagnose(runner: Runner, compose: Compose, containers: list[Container]) -> str:
    """Describe each container: state, last health-check output, log tail."""
    parts = []
    for container in containers:
        lines = [f"{container.service}: {container.describe()}"]
        check = last_health_output(runner, container)
        if check:
            lines.append(f"  last health check: {tail(check, 5)}")
        logs = runner.run(
            compose(
                "logs", "--no-color", "--no-log-prefix", "--tail", str(LOG_READ), container.service
            ),
            capture=True,
            check=False,
            query=True,
        )
        text = tail("\n".join(folded((logs.stdout + logs.stderr).splitlines())), LOG_TAIL)
        if text:
            lines.append(f"  last {LOG_TAIL} log lines:")
            lines += [f"    {line}" for line in text.splitlines()]
        parts.append("\n".join(lines))
    return "\n".join(parts)


def names(containers: list[Container]) -> str:
    """Return ``service (state), ...`` for an error message."""
    return ", ".join(f"{c.service} ({c.describe()})" for c in containers) or "any container"


def not_ready(containers: list[Container], jobs: Collection[str] = ()) -> list[Container]:
    """Return the containers that are neither ready nor a completed job.

    A job (``jobs``: services others wait for to complete) is ready only once it
    exited 0: while it runs it has no health check, and would pass as ready.
    """
    return [c for c in containers if not (c.completed or (c.ready and c.service not in jobs))]


def not_ready_error(
    runner: Runner, compose: Compose, message: str, tip: str, jobs: Collection[str] = ()
) -> StackNotReady:
    """Return the error for a stack that did not come up, diagnosing what is not ready.

    ``{names}`` in ``message`` becomes the services that are not ready.
    """
    stuck = not_ready(list_containers(runner, compose), jobs)
    return StackNotReady(
        message.format(names=names(stuck)), details=diagnose(runner, compose, stuck), tip=tip
    )


class Clock(Protocol):
    """What waiting needs of time: read it, and pass some (tests pass a fake one)."""

    def __call__(self) -> float:
        """Return the current time in seconds."""
        ...

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` pass."""
        ...


class MonotonicClock:
    """The real clock."""

    def __call__(self) -> float:
        """Return :func:`time.monotonic`."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Sleep for real."""
        time.sleep(seconds)


def _progress(containers: list[Container], jobs: Collection[str]) -> dict[str, str]:
    """Return ``who: what`` for each container that is ready or done (replicas by name)."""
    services = [c.service for c in containers]
    return {
        (c.name if services.count(c.service) > 1 else c.service): (
            "exited 0" if c.completed else (c.health or "running")
        )
        for c in containers
        if c.completed or (c.ready and c.service not in jobs)
    }


def wait_until_ready(  # noqa: PLR0913 - all keywords but two, each with a default
    runner: Runner,
    compose: Compose,
    *,
    timeout: float,
    logs_tip: str,
    clock: Clock | None = None,
    poll: float = 0.25,
    reported_timeout: float | None = None,
    jobs: Collection[str] = (),
    say: Callable[[str], None] = lambda _line: None,
    since: float | None = None,
) -> list[Container]:
    """Poll until every service is healthy and every job exited 0; return the containers.

    Each service that turns healthy (or running, without a health check) and
    each job that exits 0 is said once, as it happens, with the time since
    ``since`` (the clock's reading when the stack's start began; default: now). A job that exits
    non-zero fails at once, with its exit code and logs; at ``timeout`` the
    services still not ready are named and diagnosed (with
    ``reported_timeout`` as the limit, when part of the time went elsewhere).
    """
    clock = clock or MonotonicClock()
    started = clock()
    origin = started if since is None else since
    deadline = started + timeout
    said: set[tuple[str, str]] = set()
    while True:
        containers = list_containers(runner, compose)
        for who, what in _progress(containers, jobs).items():
            if (who, what) not in said:
                said.add((who, what))
                say(f"{who} {what} after {clock() - origin:.1f}s")
        failed = [c for c in containers if c.failed]
        if failed:
            sick = all(c.health == "unhealthy" for c in failed)
            raise StackNotReady(
                f"{names(failed)} {'failed its health check' if sick else 'stopped'}",
                details=diagnose(runner, compose, failed),
                tip=logs_tip,
            )
        pending = not_ready(containers, jobs)
        if containers and not pending:
            return containers
        if clock() >= deadline:
            raise StackNotReady(
                f"timed out after {reported_timeout or timeout:g}s waiting for {names(pending)}",
                details=diagnose(runner, compose, pending),
                tip=logs_tip,
            )
        clock.sleep(poll)
