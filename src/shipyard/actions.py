"""What the tasks and sessions do, as functions of a Workspace.

The invoke tasks and nox sessions are thin edges over these: each one opens a
Workspace (runner + engine + stack) and calls one function here.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from shipyard import envcheck, envfiles, health
from shipyard.compose import Container, compose_command, display_path, project_name
from shipyard.config import Stack, load_stack
from shipyard.engine import Engine, detect_engine
from shipyard.errors import CommandFailed, CommandTimedOut, ConfigError, StackNotReady
from shipyard.images import build_command, cache_plan, image_tags, secret_specs
from shipyard.process import Runner


def _stderr(message: str) -> None:
    print(f"shipyard: {message}", file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Workspace:
    """A runner, the engine's capabilities and the stack: all an action needs."""

    runner: Runner
    engine: Engine
    stack: Stack
    say: Callable[[str], None] = field(default=_stderr)


def open_workspace(
    runner: Runner,
    *,
    start: Path | None = None,
    flags: dict[str, str | None] | None = None,
    say: Callable[[str], None] = _stderr,
) -> Workspace:
    """Discover the stack and the engine."""
    stack = load_stack(start, flags=flags)
    engine = detect_engine(runner, builder=stack.builder, compose=stack.compose)
    return Workspace(runner, engine, stack, say)


def git_sha(ws: Workspace) -> str | None:
    """Return the short commit of the stack's checkout, or None outside git."""
    result = ws.runner.run(
        ["git", "-C", display_path(ws.stack.root), "rev-parse", "--short", "HEAD"],
        capture=True,
        check=False,
        query=True,
    )
    return (result.stdout.strip() or None) if result.ok else None


def build(ws: Workspace, targets: Sequence[str], *, no_cache: bool = False) -> list[str]:
    """Build ``targets`` (BuildKit reuses every layer that is not stale); return the tags."""
    stack = ws.stack
    ca_bundle = stack.ca_bundle
    if ca_bundle is not None and not ca_bundle.is_file():
        raise ConfigError(
            f"the CA bundle {ca_bundle} (from {stack.sources.get('ca-bundle')}) does not exist",
            tip="point SSL_CERT_FILE / ca-bundle at your proxy's CA file, or unset it",
        )
    sha = git_sha(ws)
    secrets = secret_specs(stack.build_secrets, os.environ)
    tags: list[str] = []
    for target in targets:
        stack.check_target(target)
        plan = cache_plan(ws.engine, stack.cache_ref, target, push=stack.cache_push)
        argv = build_command(
            ws.engine,
            stack,
            target,
            sha=sha,
            no_cache=no_cache,
            ca_bundle=ca_bundle,
            secrets=secrets,
            cache=plan,
        )
        ws.runner.run(argv, env=ws.engine.build_env())
        tags += image_tags(stack, target, sha)
        if plan.push:
            ws.runner.run(["docker", "tag", image_tags(stack, target)[0], plan.push])
            ws.runner.run(["docker", "push", plan.push])
    return tags


def env_files(ws: Workspace, env: str) -> list[Path]:
    """Return the env files of ``env``, creating ``.env.<env>`` from the example if needed."""
    _, notice = envfiles.ensure_env_file(ws.stack, env, dry=ws.runner.dry)
    if notice:
        ws.say(notice)
    files = envfiles.layer_files(ws.stack, env) or [ws.stack.env_dir / f".env.{env}"]
    if not ws.runner.dry:
        envfiles.layered(files)  # a malformed line stops us before Compose misreads it
    return files


def compose_for(
    ws: Workspace, env: str, *, project: str | None = None, extra_files: Sequence[Path] = ()
) -> health.Compose:
    """Return a function building compose argv for ``env`` (files, project, env files)."""
    files = env_files(ws, env)
    return partial(
        compose_command,
        ws.engine,
        ws.stack,
        env,
        env_files=files,
        project=project,
        extra_files=extra_files,
    )


def logs_tip(env: str, service: str = "") -> str:
    """Return the TIP that points at the logs of ``env``."""
    return f"see everything with 'inv logs --env {env}{f' {service}' if service else ''}'" + (
        f" (or 'inv {env}-logs')" if env == "dev" else ""
    )


_PORT_TAKEN = ("port is already allocated", "address already in use")


def _port_taken(output: str) -> str | None:
    """Return the line of Compose's output that says a published port is in use."""
    for line in output.splitlines():
        if any(marker in line.lower() for marker in _PORT_TAKEN):
            return line.strip()
    return None


def start(
    ws: Workspace,
    env: str,
    compose: health.Compose,
    *,
    timeout: float | None,
    services: Sequence[str] = (),
    tip: str | None = None,
) -> list[Container]:
    """``up --detach`` the stack, then wait until it is ready; explain any failure.

    One deadline covers both: ``up`` itself waits for ``depends_on``
    conditions, so a dependency that never turns healthy is caught there.
    ``tip`` replaces the default advice (look at the stack's logs).
    """
    runner = ws.runner
    tip = tip or logs_tip(env)
    limit = ws.stack.timeout if timeout is None else timeout
    deadline = time.monotonic() + limit
    try:
        runner.run(compose("up", "--detach", "--remove-orphans", *services), timeout=limit)
    except CommandTimedOut:
        message = f"timed out after {limit:g}s waiting for {{names}}"
        raise health.not_ready_error(runner, compose, message, tip) from None
    except CommandFailed as exc:
        if runner.dry:
            raise
        taken = _port_taken(exc.stdout + exc.stderr)
        if taken:
            runner.run(compose("down", "--remove-orphans"), capture=True, check=False)
            raise StackNotReady(
                f"a port the {env} stack publishes is already taken: {taken}",
                tip=f"stop whatever listens there, or change the port in "
                f"{display_path(ws.stack.env_dir / f'.env.{env}')}",
            ) from None
        message = f"the {env} stack did not start ('up' exited {exc.returncode})"
        raise health.not_ready_error(runner, compose, message, tip) from None
    if runner.dry:
        return []
    return health.wait_until_ready(
        runner,
        compose,
        timeout=max(deadline - time.monotonic(), 1.0),
        reported_timeout=limit,
        logs_tip=tip,
    )


def up(
    ws: Workspace,
    env: str,
    *,
    build_images: bool = True,
    no_cache: bool = False,
    timeout: float | None = None,
) -> list[Container]:
    """Build what is stale, start the stack of ``env`` and wait until it is healthy."""
    compose = compose_for(ws, env)
    if envfiles.layer_files(ws.stack, env):  # under --dry a new file is only announced
        envcheck.raise_for(env, envcheck.check_environment(ws.stack, env, ignored=git_ignored(ws)))
    if build_images:
        build(ws, [ws.stack.target(env)], no_cache=no_cache)
    return start(ws, env, compose, timeout=timeout)


def down(ws: Workspace, env: str, *, volumes: bool = False) -> None:
    """Stop and remove the stack of ``env``; named volumes stay unless ``volumes``."""
    args = ["down", "--remove-orphans"] + (["--volumes"] if volumes else [])
    ws.runner.run(compose_for(ws, env)(*args))


def compose_passthrough(ws: Workspace, env: str, *args: str, interactive: bool = False) -> None:
    """Run ``docker compose <args>`` against the stack of ``env``, streaming its output."""
    ws.runner.run(compose_for(ws, env)(*args), interactive=interactive)


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


def format_table(rows: Sequence[StatusRow]) -> str:
    """Render rows as an aligned table with a header."""
    header = ("ENV", "PROJECT", "SERVICE", "STATE", "HEALTH", "PORTS")
    cells = [header] + [
        (r.env, r.project, r.service, r.state, r.health or "-", r.ports) for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in cells
    )


def git_ignored(ws: Workspace) -> envcheck.IgnoredBy:
    """Return a function telling whether git ignores a path (None outside a checkout)."""

    def ignored(path: Path) -> bool | None:
        result = ws.runner.run(
            [
                "git",
                "-C",
                display_path(ws.stack.root),
                "check-ignore",
                "--quiet",
                display_path(path),
            ],
            capture=True,
            check=False,
            query=True,
        )
        return {0: True, 1: False}.get(result.returncode)

    return ignored
