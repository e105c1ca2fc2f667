"""Run an environment's stack: up (build, start, wait), down, pass-through, status.

The invoke tasks and nox sessions are thin edges over these: each opens a
Workspace, resolves the Environment once, and calls one function here.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from shipyard.core.compose import Container
from shipyard.core.config import Stack
from shipyard.core.errors import (
    CommandFailed,
    CommandTimedOut,
    ConfigError,
    ShipyardError,
    StackNotReady,
    did_you_mean,
)
from shipyard.core.process import Runner
from shipyard.core.workspace import Workspace, display_path, git_ignored
from shipyard.env import datavolumes, envcheck, envfiles
from shipyard.env.environment import Environment, project_name, scale_args
from shipyard.stack import health, locks
from shipyard.stack.builds import build_images


def compose_for(
    ws: Workspace,
    environment: Environment,
    *,
    project: str | None = None,
    extra_files: Sequence[Path] = (),
) -> health.Compose:
    """Return a function building compose argv for ``environment``."""
    return partial(environment.compose, ws.engine, project=project, extra_files=extra_files)


def logs_tip(env: str, service: str = "") -> str:
    """Return the TIP that points at the logs of ``env``."""
    which = f" --service {service}" if service else ""
    also = f" (or 'inv dev-logs{which}')" if env == "dev" else ""
    return f"see everything with 'inv logs --env {env}{which}'{also}"


_PORT_TAKEN = ("port is already allocated", "address already in use")


def _port_taken(output: str) -> str | None:
    """Return the line of Compose's output that says a published port is in use."""
    for line in output.splitlines():
        if any(marker in line.lower() for marker in _PORT_TAKEN):
            return line.strip()
    return None


# Compose's words for an image it had to pull and could not (one shipyard builds is
# checked before `up`: see _require_built).
_NOT_PULLED = re.compile(
    r"Image (\S+) Error|pull access denied for ([^,\s]+)|manifest for (\S+) not found"
)


def _not_pulled(output: str) -> str | None:
    """Return the image Compose could not pull, from its output."""
    match = _NOT_PULLED.search(output)
    return next((group for group in match.groups() if group), None) if match else None


def start(
    ws: Workspace,
    environment: Environment,
    compose: health.Compose,
    *,
    timeout: float | None,
    services: Sequence[str] = (),
    scale: Sequence[str] = (),
    tip: str | None = None,
) -> list[Container]:
    """``up --detach`` the stack, then wait until it is ready; explain any failure.

    One deadline covers both: ``up`` itself waits for ``depends_on``
    conditions, so a dependency that never turns healthy is caught there.
    ``tip`` replaces the default advice (look at the stack's logs).
    """
    runner = ws.runner
    env = environment.name
    tip = tip or logs_tip(env)
    limit = ws.stack.timeout if timeout is None else timeout
    began = time.monotonic()  # `up` waits for healthy dependencies: times count from here
    deadline = began + limit
    attempt = datetime.now(UTC)
    try:
        # shipyard builds the images itself (bake or build); Compose only runs them.
        up_args = ["up", "--detach", "--remove-orphans", "--no-build"]
        runner.run(
            compose(*up_args, *scale_args(environment, scale), *services), timeout=limit, tee=True
        )
    except CommandTimedOut:
        message = f"timed out after {limit:g}s waiting for {{names}}"
        raise health.not_ready_error(runner, compose, message, tip, environment.jobs) from None
    except CommandFailed as exc:
        if runner.dry:
            raise
        taken = _port_taken(exc.stdout + exc.stderr)
        if taken:
            kept = _undo_attempt(runner, compose, attempt)
            where = ", ".join(display_path(path) for path in environment.env_files)
            raise StackNotReady(
                f"a port the {env} stack publishes is already taken: {taken}",
                details=kept,
                tip=f"stop whatever listens there, or change the port in {where or 'its env file'}",
            ) from None
        image = _not_pulled(exc.stdout + exc.stderr)
        if image:
            _undo_attempt(runner, compose, attempt)
            raise StackNotReady(
                f"the {env} stack did not start: the image {image} is not on this engine "
                "and could not be pulled",
                tip=f"'docker pull {image}' where its registry is reachable, or leave the "
                "service out of the stack",
            ) from None
        message = f"the {env} stack did not start ('up' exited {exc.returncode})"
        raise health.not_ready_error(runner, compose, message, tip, environment.jobs) from None
    if runner.dry:
        return []
    return health.wait_until_ready(
        runner,
        compose,
        timeout=max(deadline - time.monotonic(), 1.0),
        reported_timeout=limit,
        jobs=environment.jobs,
        logs_tip=tip,
        say=ws.say,
        since=began,
    )


def _undo_attempt(runner: Runner, compose: health.Compose, attempt: datetime) -> str:
    """Remove what a failed start created, unless the stack ran before it; say which.

    A stack that was running (a port changed in its env file, then taken)
    is left as Compose left it: removing it would stop what worked.
    """
    containers = health.list_containers(runner, compose)
    # Compose says the second it created a container: that second counts as this attempt.
    since = attempt.replace(microsecond=0) - timedelta(seconds=1)
    before = [c.service for c in containers if c.created and c.created < since]
    if before:
        return (
            f"the stack was running before this attempt: left as it is ({', '.join(before)}); "
            "a service whose port changed is stopped until it starts on a free one"
        )
    runner.run(compose("down", "--remove-orphans"), capture=True, check=False)
    return ""


def _require_built(ws: Workspace, environment: Environment) -> None:
    """Stop before Compose creates anything when an image it should run was never built."""
    if ws.runner.dry:
        return
    for image in environment.started_images:
        found = ws.runner.run(
            ["docker", "image", "inspect", "--format", "{{.Id}}", image.ref],
            capture=True,
            check=False,
            query=True,
        )
        if not found.ok:
            env = environment.name
            raise StackNotReady(
                f"the {env} stack did not start: the image {image.ref} was never built on "
                "this engine (--no-build)",
                tip=f"build it first ('inv docker-build --env {env}', or without --no-build)",
            )


def up(
    ws: Workspace,
    environment: Environment,
    *,
    build: bool = True,
    no_cache: bool = False,
    timeout: float | None = None,
    scale: Sequence[str] = (),
) -> list[Container]:
    """Build what is stale, start the stack of ``environment`` and wait until it is healthy."""
    env = environment.name
    if envfiles.layer_files(ws.stack, env):  # under --dry a new file is only announced
        envcheck.raise_for(env, envcheck.check_environment(ws.stack, env, ignored=git_ignored(ws)))
    scale_args(environment, scale)  # a typo stops us before the build
    ws.require_engine()
    datavolumes.check(ws, environment)  # data made with other secrets: stop before the build
    with _one_at_a_time(ws, environment, "up"):
        if build:  # what `up` starts: the tests profile's image is docker-test's to build
            build_images(ws, environment.started_images, no_cache=no_cache)
        else:
            _require_built(ws, environment)
        down = "inv dev-down" if env == "dev" else f"inv down --env {env}"
        try:
            containers = start(
                ws,
                environment,
                compose_for(ws, environment),
                timeout=timeout,
                scale=scale,
                tip=f"{logs_tip(env)}; the stack is left up to be looked at: '{down}' removes it",
            )
        except BaseException:
            # A first start that never became healthy still made its data with these
            # secrets: remember them, so a regenerated env file meets the drift check.
            if not ws.runner.dry:
                with suppress(ShipyardError):
                    datavolumes.remember(ws, environment)
            raise
        if not ws.runner.dry:
            datavolumes.remember(ws, environment)
    return containers


Confirm = Callable[[list[str]], bool]


def ask_on_terminal(env: str, *, yes: bool = False) -> Confirm | None:
    """Return the confirmation that deleting ``env``'s volumes needs (None with ``yes``).

    It asks on a terminal; without one (CI, a script) it stops and names ``--yes``.
    """
    if yes:
        return None

    def confirm(names: list[str]) -> bool:
        if not sys.stdin.isatty():
            raise ConfigError(
                f"deleting the {env} stack's data ({', '.join(names)}) needs a yes, "
                "and there is no terminal to ask: nothing was removed",
                tip=f"to delete it, run '{datavolumes.down_command(env)} --yes'",
            )
        question = (
            f"Delete the {env} stack's data ({', '.join(names)})? It cannot be undone. [y/N] "
        )
        return input(question).strip().lower() in {"y", "yes"}

    return confirm


def down(
    ws: Workspace,
    environment: Environment,
    *,
    volumes: bool = False,
    confirm: Confirm | None = None,
) -> None:
    """Stop and remove every container of ``environment`` (all profiles, all replicas).

    Named volumes stay unless ``volumes``; then ``confirm`` (given the names of
    the volumes that exist) must say yes first, unless it is None.
    """
    doomed = datavolumes.existing(ws, environment) if volumes else []
    if doomed and confirm is not None and not confirm([v.name for v in doomed]):
        raise ConfigError(
            f"kept the {environment.name} stack and its data: nothing was removed",
            tip="to delete the data, answer 'y', or run "
            f"'{datavolumes.down_command(environment.name)} --yes'",
        )
    args = ["down", "--remove-orphans"] + (["--volumes"] if volumes else [])
    with _one_at_a_time(ws, environment, "down"):
        ws.runner.run(environment.compose(ws.engine, *args))
    if doomed and not ws.runner.dry:
        datavolumes.forget(doomed)


@contextmanager
def _one_at_a_time(ws: Workspace, environment: Environment, what: str) -> Iterator[None]:
    """Hold the stack's lock (not under --dry, which changes nothing)."""
    if ws.runner.dry:
        yield
        return
    with locks.one_at_a_time(environment.project, what, say=ws.say):
        yield


def compose_passthrough(
    ws: Workspace, environment: Environment, *args: str, interactive: bool = False
) -> None:
    """Run ``docker compose <args>`` against the stack, streaming its output."""
    ws.runner.run(environment.compose(ws.engine, *args), interactive=interactive)


def check_service(environment: Environment, service: str) -> str:
    """Return ``service`` if ``environment`` has it, else a ConfigError listing those it has."""
    names = sorted(environment.services)
    if service in names:
        return service
    example = f"inv {environment.name}-logs --service {names[0]}" if names else ""
    raise ConfigError(
        f"the {environment.name} stack has no service {service!r}"
        f"{did_you_mean(service, names)} (services: {', '.join(names) or 'none'})",
        tip=f"use one of those, e.g. '{example}'"
        if environment.name == "dev" and names
        else "use one of those",
    )


def require_running(ws: Workspace, environment: Environment, service: str) -> None:
    """Stop with a clear error when ``service`` has no running container to enter."""
    running = ws.runner.run(
        environment.compose(ws.engine, "ps", "--status", "running", "--services"),
        capture=True,
        query=True,
    ).stdout.split()
    if service not in running and not ws.runner.dry:
        up = "inv dev-up" if environment.name == "dev" else f"inv up --env {environment.name}"
        raise StackNotReady(
            f"service {service!r} of the {environment.name} stack is not running",
            tip=f"start the stack with '{up}', then run the same command again",
        )


def default_service(environment: Environment) -> str:
    """Return the service a shell enters by default: the first one built from a Dockerfile."""
    built = [s for image in environment.images for s in image.services]
    return built[0] if built else min(environment.services)


def urls(containers: Sequence[Container]) -> list[str]:
    """Return ``service  URL`` lines for every published port."""
    return [
        f"{container.service:<10} {url}"
        for container in containers
        for url in dict.fromkeys(port.url() for port in container.ports)
    ]


@dataclass(frozen=True)
class StatusRow:
    """One container of some environment, for ``inv status``."""

    env: str
    project: str
    service: str
    state: str
    health: str
    ports: str


def _env_of(stack: Stack, project: str) -> str | None:
    matches = [
        env
        for env in stack.environments
        if project == project_name(stack, env) or project.startswith(project_name(stack, env) + "-")
    ]
    return max(matches, key=len) if matches else None


_PS_FORMAT = "\t".join(
    (
        '{{.Label "com.docker.compose.project"}}',
        '{{.Label "com.docker.compose.service"}}',
        "{{.State}}",
        "{{.Status}}",
        "{{.Ports}}",
    )
)


def status_rows(ws: Workspace) -> list[StatusRow]:
    """Return every container of every environment of the stack (run ids included)."""
    result = ws.runner.run(
        [
            "docker",
            "ps",
            "--all",
            "--filter",
            "label=com.docker.compose.project",
            "--format",
            _PS_FORMAT,
        ],
        capture=True,
        query=True,
    )
    rows = []
    for line in result.stdout.splitlines():
        project, service, state, status, ports = (line.split("\t") + [""] * 5)[:5]
        env = _env_of(ws.stack, project)
        if env is None:
            continue
        health = ""
        for word in ("unhealthy", "healthy", "starting"):
            if f"({word})" in status or f"health: {word}" in status:
                health = word
                break
        rows.append(StatusRow(env, project, service, state, health, ports))
    return sorted(rows, key=lambda r: (r.env, r.project, r.service))


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Render rows as an aligned table under ``header``."""
    cells = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def format_table(rows: Sequence[StatusRow]) -> str:
    """Render status rows as an aligned table with a header."""
    return table(
        ("ENV", "PROJECT", "SERVICE", "STATE", "HEALTH", "PORTS"),
        [(r.env, r.project, r.service, r.state, r.health or "-", r.ports) for r in rows],
    )
