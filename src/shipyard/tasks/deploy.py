"""Tasks for Docker Swarm: ``deploy``, ``deploy-status``, ``rollback``, ``undeploy``."""

from __future__ import annotations

from dataclasses import asdict
from json import dumps
from typing import TYPE_CHECKING

from invoke.context import Context

from shipyard.tasks._edge import shipyard_task, workspace
from shipyard.tasks._lazy import lazy

if TYPE_CHECKING:
    from shipyard.deploy import swarm
    from shipyard.env import environment as environments
else:
    environments = lazy("shipyard.env.environment")
    swarm = lazy("shipyard.deploy.swarm")

__all__ = ["deploy", "deploy_status", "rollback", "undeploy"]

_ENV = "the environment whose compose files and env files to deploy (default: prod)"
_STACK = "the stack's name on the swarm (default: <project>-<env>-swarm)"


@shipyard_task(
    help={
        "env": _ENV,
        "stack": _STACK,
        "sha": "deploy the images pushed for this commit (default: the environment's tag)",
        "timeout": "seconds each step may take to converge (default: [tool.shipyard] timeout)",
    }
)
def deploy(
    c: Context, env: str = "prod", stack: str = "", sha: str = "", timeout: str = ""
) -> None:
    """Deploy the environment to Docker Swarm, images pinned by digest; wait until healthy."""
    ws = workspace(c, timeout=timeout or None)
    environment = environments.resolve(ws, env)
    name = swarm.stack_name(ws, env, stack)
    swarm.deploy(ws, environment, name, tag=sha or env)
    if not ws.runner.dry:
        print(f"{name} deployed: every service converged")
        print(swarm.format_status(swarm.status(ws, name)))


@shipyard_task(help={"env": _ENV, "stack": _STACK, "json": "print the services as JSON"})
def deploy_status(c: Context, env: str = "prod", stack: str = "", json: bool = False) -> None:
    """Show the stack's services on the swarm: replicas running, update state, image digest."""
    ws = workspace(c)
    name = swarm.stack_name(ws, ws.stack.check_env(env), stack)
    rows = swarm.status(ws, name)
    if json:
        print(dumps([asdict(row) for row in rows], indent=2))
        return
    print(swarm.format_status(rows))


@shipyard_task(
    help={"env": _ENV, "stack": _STACK, "service": "only this service (repeatable)"},
    iterable=["service"],
)
def rollback(
    c: Context, env: str = "prod", stack: str = "", service: list[str] | None = None
) -> None:
    """Put the stack's services back on their previous version; wait until healthy."""
    ws = workspace(c)
    name = swarm.stack_name(ws, ws.stack.check_env(env), stack)
    rolled = swarm.rollback(ws, name, service or [])
    if not ws.runner.dry:
        print(f"{name}: rolled back {', '.join(rolled)}")


@shipyard_task(help={"env": _ENV, "stack": _STACK})
def undeploy(c: Context, env: str = "prod", stack: str = "") -> None:
    """Remove the stack from the swarm: services, networks, secrets (data volumes stay)."""
    ws = workspace(c)
    name = swarm.stack_name(ws, ws.stack.check_env(env), stack)
    kept = swarm.undeploy(ws, name)
    if not ws.runner.dry:
        print(f"{name} removed" + (f"; data volumes kept: {', '.join(kept)}" if kept else ""))
