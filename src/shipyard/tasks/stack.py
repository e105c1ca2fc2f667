"""Tasks that run stacks: ``dev-up``, ``dev-down``, ..., ``test-up``, ``status``."""

from __future__ import annotations

import shlex
import sys
from dataclasses import asdict
from json import dumps
from typing import TYPE_CHECKING

from invoke.context import Context
from invoke.exceptions import Exit

from shipyard.core.errors import ShipyardError
from shipyard.core.process import InvokeRunner
from shipyard.tasks._edge import shipyard_task, workspace
from shipyard.tasks._lazy import lazy

if TYPE_CHECKING:
    from shipyard.core.workspace import Workspace
    from shipyard.env import environment as environments
    from shipyard.stack import doctor as doctor_checks
    from shipyard.stack import stacks
    from shipyard.testing import kept, testrun
else:
    doctor_checks = lazy("shipyard.stack.doctor")
    environments = lazy("shipyard.env.environment")
    stacks = lazy("shipyard.stack.stacks")
    kept = lazy("shipyard.testing.kept")
    testrun = lazy("shipyard.testing.testrun")

__all__ = [
    "bootstrap",
    "dev_down",
    "dev_logs",
    "dev_restart",
    "dev_shell",
    "dev_status",
    "dev_up",
    "doctor",
    "down",
    "gc",
    "logs",
    "rebuild",
    "status",
    "test",
    "test_down",
    "test_up",
    "up",
]

DEV = "dev"
TEST = "test"

_ENV = "environment: an overlay compose/docker-compose.<env>.yml (dev, test, ci, prod...)"
_TIMEOUT = "seconds to wait for every service to be healthy (default: [tool.shipyard] timeout)"
_SCALE = "SERVICE=N replicas (repeatable), e.g. --scale worker=3"
_PROFILE = "also start the services of this compose profile (repeatable)"
_UP_HELP = {"build": "build stale images first", "timeout": _TIMEOUT, "scale": _SCALE}


def _environment(
    c: Context, env: str, **flags: str | None
) -> tuple[Workspace, environments.Environment]:
    """Open the workspace and resolve ``env`` without writing env files (not an `up`)."""
    ws = workspace(c, **flags)
    return ws, environments.resolve(ws, env, create=False)


def _up(
    c: Context,
    env: str,
    *,
    build: bool,
    no_cache: bool = False,
    timeout: str | None,
    scale: list[str] | None = None,
    profile: list[str] | None = None,
) -> None:
    ws = workspace(c, timeout=timeout)
    environment = environments.resolve(ws, env, profiles=profile or [])
    containers = stacks.up(ws, environment, build=build, no_cache=no_cache, scale=scale or [])
    if ws.runner.dry:
        return
    print(f"{env} stack is up: {len(containers)} containers ready")
    for line in stacks.urls(containers):
        print(f"  {line}")


@shipyard_task(help={"env": _ENV, "profile": _PROFILE, **_UP_HELP}, iterable=["scale", "profile"])
def up(
    c: Context,
    env: str = DEV,
    build: bool = True,
    timeout: str | None = None,
    scale: list[str] | None = None,
    profile: list[str] | None = None,
) -> None:
    """Start any environment's stack and wait until every service is healthy."""
    _up(c, env, build=build, timeout=timeout, scale=scale, profile=profile)


_YES = "delete the volumes without asking (needed without a terminal)"


@shipyard_task(help={"env": _ENV, "volumes": "also remove named volumes (the data)", "yes": _YES})
def down(c: Context, env: str = DEV, volumes: bool = False, yes: bool = False) -> None:
    """Stop and remove any environment's stack (every profile and replica); volumes stay."""
    confirm = stacks.ask_on_terminal(env, yes=yes)
    stacks.down(*_environment(c, env), volumes=volumes, confirm=confirm)


@shipyard_task(
    help={
        "env": _ENV,
        "service": "one service (default: all)",
        "follow": "keep streaming",
        "tail": "lines per service",
    }
)
def logs(
    c: Context, service: str = "", env: str = DEV, follow: bool = False, tail: int = 100
) -> None:
    """Show the logs of any environment's stack."""
    args = ["logs", "--tail", str(tail)] + (["--follow"] if follow else [])
    ws, environment = _environment(c, env)
    chosen = [stacks.check_service(environment, service)] if service else []
    stacks.compose_passthrough(ws, environment, *args, *chosen)


@shipyard_task(help={"profile": _PROFILE, **_UP_HELP}, iterable=["scale", "profile"])
def dev_up(
    c: Context,
    build: bool = True,
    timeout: str | None = None,
    scale: list[str] | None = None,
    profile: list[str] | None = None,
) -> None:
    """Build what is stale, start the dev stack, wait until healthy, print the URLs."""
    _up(c, DEV, build=build, timeout=timeout, scale=scale, profile=profile)


@shipyard_task(help={"volumes": "also remove named volumes (the dev database!)", "yes": _YES})
def dev_down(c: Context, volumes: bool = False, yes: bool = False) -> None:
    """Stop and remove the dev stack; the database volume stays unless --volumes."""
    confirm = stacks.ask_on_terminal(DEV, yes=yes)
    stacks.down(*_environment(c, DEV), volumes=volumes, confirm=confirm)


@shipyard_task(help={"service": "one service (default: all)"})
def dev_restart(c: Context, service: str = "") -> None:
    """Restart the dev stack's services (or one of them)."""
    ws, environment = _environment(c, DEV)
    chosen = [stacks.check_service(environment, service)] if service else []
    stacks.compose_passthrough(ws, environment, "restart", *chosen)


@shipyard_task(
    help={
        "service": "one service (default: all)",
        "follow": "keep streaming",
        "tail": "lines per service",
    }
)
def dev_logs(c: Context, service: str = "", follow: bool = False, tail: int = 100) -> None:
    """Show the dev stack's logs (--follow to stream them)."""
    logs.body(c, service=service, env=DEV, follow=follow, tail=tail)


@shipyard_task(
    help={
        "service": "service to enter (default: the first built one)",
        "cmd": "command (default: sh)",
    }
)
def dev_shell(c: Context, service: str = "", cmd: str = "sh") -> None:
    """Open a shell (or run --cmd) in a running dev service."""
    ws, environment = _environment(c, DEV)
    chosen = stacks.check_service(environment, service or stacks.default_service(environment))
    stacks.require_running(ws, environment, chosen)
    # Without a terminal (scripts, CI) Compose must not ask for a TTY: -T.
    no_tty = [] if sys.stdin.isatty() else ["-T"]
    argv = ["exec", *no_tty, chosen, *shlex.split(cmd)]
    stacks.compose_passthrough(ws, environment, *argv, interactive=True)


@shipyard_task()
def dev_status(c: Context) -> None:
    """Show the dev stack's containers: state, health, ports."""
    stacks.compose_passthrough(*_environment(c, DEV), "ps", "--all")


@shipyard_task(help={"build": "build stale images first", "timeout": _TIMEOUT})
def test_up(c: Context, build: bool = True, timeout: str | None = None) -> None:
    """Start the test stack (own project name, nothing published) and wait until healthy."""
    _up(c, TEST, build=build, timeout=timeout)


IDLE = 1800  # seconds


@shipyard_task(
    help={
        "idle": f"seconds the kept stack waits for the next run before it goes (default {IDLE})",
        "rebuild": "rebuild the test image (and recreate what runs it) even if nothing changed",
    }
)
def test(c: Context, idle: int = IDLE, rebuild: bool = False) -> None:
    """Run the tests in the test image on a kept test stack (pytest arguments after --).

    The first run starts the test stack and leaves it up; later runs reuse it
    with the source as it is now (no rebuild unless the lock or Dockerfile
    changed). CI runs 'nox -s docker-test' instead: a fresh stack every time.
    """
    ws = workspace(c)
    environment = environments.resolve(ws, ws.stack.test_env)
    status = kept.kept_test(ws, environment, shlex.split(c.remainder), idle=idle, rebuild=rebuild)
    if status:  # pytest said why; exit with its status, as pytest would
        raise Exit(code=status)


@shipyard_task()
def test_down(c: Context) -> None:
    """Remove the test stacks: 'inv test-up''s and 'inv test''s kept one, with their volumes."""
    ws, environment = _environment(c, TEST)
    stacks.down(ws, environment, volumes=True)
    if ws.stack.test_env != TEST:
        environment = environments.resolve(ws, ws.stack.test_env, create=False)
    for line in kept.down(ws, environment):
        print(f"removed {line}")


@shipyard_task(
    help={
        "env": "environment to rebuild and restart (default: dev)",
        "no_cache": "rebuild every layer",
        "timeout": _TIMEOUT,
    }
)
def rebuild(c: Context, env: str = DEV, no_cache: bool = False, timeout: str | None = None) -> None:
    """Rebuild an environment's images (--no-cache for every layer) and recreate its stack."""
    _up(c, env, build=True, no_cache=no_cache, timeout=timeout)


@shipyard_task(help={"json": "print the containers as JSON, for scripts"})
def status(c: Context, json: bool = False) -> None:
    """Show every environment's stack: service, state, health, ports."""
    ws = workspace(c)
    rows = stacks.status_rows(ws)
    if json:
        print(dumps([asdict(row) for row in rows], indent=2))
        return
    if not rows:
        envs = ", ".join(ws.stack.environments)
        print(f"no containers of {ws.stack.project} (environments: {envs})")
        return
    print(stacks.format_table(rows))


@shipyard_task(help={"dry": "only list what would be removed"})
def gc(c: Context, dry: bool = False) -> None:
    """Remove what dead test runs left (found by label) and this project's untagged images."""
    print("\n".join(testrun.collect_garbage(workspace(c), dry=dry)) or "nothing to remove")


@shipyard_task(help={"env": _ENV, "json": "print the checks as JSON"})
def doctor(c: Context, env: str = DEV, json: bool = False) -> None:
    """Check the engine, Compose, builder, disk, ports, env files and scripts; say each fix."""
    checks = _doctor(c, env)
    if json:
        print(dumps(doctor_checks.as_json(checks), indent=2))
    else:
        for check in checks:
            print(check.line())
    broken = doctor_checks.failed(checks)
    if broken:
        raise ShipyardError(
            f"{len(broken)} check(s) failed: {', '.join(dict.fromkeys(c.name for c in broken))}",
            tip="apply the fix after '->' on each FAIL line, then run 'inv doctor' again",
        )


def _doctor(c: Context, env: str) -> list[doctor_checks.Check]:
    runner = InvokeRunner(c)
    return doctor_checks.diagnose(runner, lambda: workspace(c), env=env)


@shipyard_task(help={"timeout": _TIMEOUT})
def bootstrap(c: Context, timeout: str | None = None) -> None:
    """From a fresh clone to a healthy dev stack: doctor, env files, build, up, wait, URLs."""
    checks = _doctor(c, DEV)
    broken = doctor_checks.failed(checks)
    for check in checks:
        if check.status != "ok":
            print(check.line())
    if broken:
        raise ShipyardError(
            f"not ready to start the dev stack: {len(broken)} check(s) failed",
            tip="apply the fix after '->' on each FAIL line, then run 'inv bootstrap' again",
        )
    print(f"doctor: {len(checks)} checks passed")
    _up(c, DEV, build=True, timeout=timeout)
