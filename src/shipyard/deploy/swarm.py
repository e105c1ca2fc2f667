"""Deploy an environment to Docker Swarm: a stack file from Compose's model, then wait.

Swarm runs Compose files natively (``docker stack deploy``), so the stack
file is the environment's own merged model, changed only where Swarm needs
it to be:

- every image shipyard builds is pinned by its registry digest, so each node
  runs the same bytes and a redeploy of the same digests changes nothing;
- each ``@secret`` value reaches its services as a Swarm secret, a file under
  ``/run/secrets/<VARIABLE>`` named by ``<VARIABLE>_FILE`` (the convention of
  the official images), never as a variable in the service spec;
- rolling updates start the new task first and roll back on failure, except
  where two tasks cannot run side by side (a data volume, a port published on
  the node): those stop first;
- one-shot jobs (``service_completed_successfully``) run to completion before
  the services that wait for them are updated: deploy happens in phases.

Swarm has no ``depends_on``; shipyard's phases and waits take its place.

The stack file is built in ``stackfile``, the secrets in ``swarmsecrets``;
``converge`` reads the swarm and waits. This module holds what users run:
deploy, rollback, undeploy and status.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.core.errors import ConfigError, StackNotReady
from shipyard.core.workspace import Workspace, display_path
from shipyard.deploy.converge import NAMESPACE, POLL, converge, judge, services_of
from shipyard.deploy.registry import pinned, registry_of, remote
from shipyard.deploy.stackfile import StackFile, Start, deployed_services, phases, stack_file
from shipyard.deploy.swarmsecrets import create_secrets, leaks, secrets_for
from shipyard.env import datavolumes
from shipyard.env.environment import Environment, project_name
from shipyard.stack.health import Clock, MonotonicClock
from shipyard.stack.stacks import table

# --- the swarm -------------------------------------------------------------------------


def require_manager(ws: Workspace) -> None:
    """Stop unless the engine is a swarm manager."""
    ws.require_engine()
    info = ws.runner.run(
        ["docker", "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"],
        capture=True,
        query=True,
    ).stdout.split()
    state, manager = [*info, "", ""][:2]
    if state != "active":
        raise ConfigError(
            f"this Docker engine is not in swarm mode (swarm: {state or 'unknown'})",
            tip="'docker swarm init' makes this machine a one-node swarm; or point "
            "DOCKER_HOST (or 'docker context use') at a swarm manager",
        )
    if manager != "true":
        raise ConfigError(
            "this Docker engine is a swarm worker: stacks are deployed on a manager",
            tip="point DOCKER_HOST (or 'docker context use') at a manager node",
        )


def stack_name(ws: Workspace, env: str, given: str = "") -> str:
    """Return the stack's name: ``given``, else ``<project>-<env>-swarm``.

    Not the Compose project's name: its volumes would be the Compose stack's
    own (``<name>_db-data``), and two databases would share one data folder.
    """
    return given or f"{project_name(ws.stack, env)}-swarm"


# --- commands ---------------------------------------------------------------------------


def image_start(ws: Workspace, image: str) -> Start:
    """Return how ``image`` starts (from the engine's copy; pinned images were just pulled)."""
    found = ws.runner.run(
        ["docker", "image", "inspect", "--format", "{{json .Config}}", image],
        capture=True,
        check=False,
        query=True,
    )
    if not found.ok:
        raise ConfigError(
            f"cannot read how {image} starts: it is not on this engine",
            tip=f"'docker pull {image}', then deploy again",
        )
    config = json.loads(found.stdout or "{}") or {}
    return Start(tuple(config.get("Entrypoint") or ()), tuple(config.get("Cmd") or ()))


def _starts(
    ws: Workspace, environment: Environment, pins: Mapping[str, str], services: Sequence[str]
) -> dict[str, Start]:
    wanted = ws.stack.swarm_env_secrets
    unknown = [name for name in wanted if name not in services]
    if unknown:
        raise ConfigError(
            f"swarm-env-secrets names {', '.join(map(repr, unknown))}: "
            f"not a service of the {environment.name} stack",
            tip=f"its services: {', '.join(services)}",
        )
    images = {name: str((environment.services[name] or {}).get("image")) for name in wanted}
    return {name: image_start(ws, pins.get(image, image)) for name, image in images.items()}


def deploy(
    ws: Workspace,
    environment: Environment,
    stack: str,
    *,
    tag: str,
    clock: Clock | None = None,
) -> StackFile:
    """Deploy ``environment`` as ``stack`` from images tagged ``tag``; wait until it converged."""
    require_manager(ws)
    registry = registry_of(ws)
    pins = {image.ref: pinned(ws, remote(registry, image, tag)) for image in environment.images}
    found = datavolumes.secret_values(ws, environment)
    missing = sorted(datavolumes.secret_keys(ws, environment) - set(found))
    if missing:
        files = ", ".join(display_path(path) for path in environment.env_files)
        raise ConfigError(
            f"no value for {', '.join(missing)} (@secret) in {files or 'any env file'}",
            tip=f"set it there, or 'inv env-init --env {environment.name}' for a fresh file",
        )
    datavolumes.check(ws, environment, stack)  # data made with other secrets: stop first
    values = [value.value or "" for value in found.values()]
    services = deployed_services(environment)
    secrets = secrets_for(stack, {n: environment.services[n] for n in services}, values)
    make = functools.partial(
        stack_file,
        environment,
        pins,
        secrets,
        endpoint_mode=ws.stack.endpoint_mode,
        starts=_starts(ws, environment, pins, services),
    )
    full = make()
    if full.ignored:
        ignored = (f"{key} ({', '.join(names)})" for key, names in full.ignored.items())
        ws.say(f"Swarm ignores: {'; '.join(ignored)}")
    as_files = sorted(
        f"{service} {secret.variable}_FILE"
        for (service, _), secret in secrets.items()
        if service not in ws.stack.swarm_env_secrets
    )
    if as_files:
        ws.say(
            f"secrets as files: {', '.join(as_files)} (a service that reads only the "
            "variable: list it in swarm-env-secrets)"
        )
    create_secrets(ws, stack, secrets.values())
    steps = phases(environment, services)
    with tempfile.TemporaryDirectory(prefix="shipyard-stack-") as folder:
        for number, names in enumerate(steps, 1):
            last = number == len(steps)
            step = full if last else make(only=names)
            text = step.render()
            leaks(text, values)
            path = Path(folder) / f"{stack}.{number}.yml"
            path.write_text(text, encoding="utf-8")
            if len(steps) > 1:
                ws.say(f"step {number}/{len(steps)}: {', '.join(names)}")
            before = {name: service.spec for name, service in services_of(ws, stack).items()}
            ws.runner.run(
                ["docker", "stack", "deploy", "--compose-file", str(path), "--with-registry-auth"]
                + (["--prune"] if last else [])
                + [stack]
            )
            if not ws.runner.dry:
                try:
                    converge(ws, stack, names, environment.jobs, clock=clock)
                except StackNotReady as failed:
                    raise _all_back(ws, stack, before, environment.jobs, failed) from None
                finally:  # a data volume is a task's: recorded once one ran, healthy or not
                    datavolumes.remember(ws, environment, stack)
    return full


def _all_back(
    ws: Workspace,
    stack: str,
    before: Mapping[str, Mapping[str, Any]],
    jobs: Iterable[str],
    failed: StackNotReady,
) -> StackNotReady:
    """Roll back every other service this deploy changed, so the stack is as it was.

    Swarm rolls back only the service whose update failed; the others would
    keep the new version beside the old one (Helm's ``--atomic`` does the
    same). A job already ran: its effects stay.
    """
    changed = sorted(
        name
        for name, service in services_of(ws, stack).items()
        if name in before
        and name not in set(jobs)
        and not service.update.startswith("rollback")
        and service.spec != before[name]
    )
    if not changed:
        return failed
    ws.say(f"rolling back what this deploy changed too: {', '.join(changed)}")
    for name in changed:
        ws.runner.run(["docker", "service", "rollback", "--detach", "--quiet", f"{stack}_{name}"])
    converge(ws, stack, changed, rolling_back=True)
    return StackNotReady(
        f"{failed.message}; also rolled back: {', '.join(changed)}",
        details=failed.details,
        tip=failed.tip,
    )


def rollback(
    ws: Workspace, stack: str, only: Sequence[str] = (), clock: Clock | None = None
) -> list[str]:
    """Return each service (but jobs) to its previous spec, and wait until it converged."""
    require_manager(ws)
    services = services_of(ws, stack)
    if not services:
        raise ConfigError(f"no stack {stack!r} on this swarm", tip="deploy it first: 'inv deploy'")
    unknown = [name for name in only if name not in services]
    if unknown:
        raise ConfigError(
            f"the {stack} stack has no service {', '.join(map(repr, unknown))}",
            tip=f"its services: {', '.join(sorted(services))}",
        )
    restartable = {
        name for name, service in services.items() if service.previous and not service.job
    }
    chosen = [n for n in (only or sorted(services)) if n in restartable]
    if not chosen:
        raise ConfigError(
            f"nothing to roll back in the {stack} stack: no service has a previous version",
            tip="a service gets one when a deploy updates it",
        )
    for name in chosen:
        ws.runner.run(["docker", "service", "rollback", "--detach", "--quiet", services[name].name])
    if not ws.runner.dry:
        converge(ws, stack, chosen, rolling_back=True, clock=clock)
    return chosen


def undeploy(ws: Workspace, stack: str, clock: Clock | None = None) -> list[str]:
    """Remove the stack (services, networks, secrets); return the data volumes it keeps."""
    require_manager(ws)
    if not services_of(ws, stack):
        raise ConfigError(f"no stack {stack!r} on this swarm", tip="'docker stack ls' lists them")
    ws.runner.run(["docker", "stack", "rm", stack])
    clock = clock or MonotonicClock()
    deadline = clock() + ws.stack.timeout
    label = f"label={NAMESPACE}={stack}"
    while not ws.runner.dry:
        left = [
            kind
            for kind, argv in (
                ("containers", ["docker", "ps", "--all", "--quiet", "--filter", label]),
                ("networks", ["docker", "network", "ls", "--quiet", "--filter", label]),
            )
            if ws.runner.run(argv, capture=True, query=True).stdout.strip()
        ]
        if not left:
            break
        if clock() >= deadline:
            raise StackNotReady(
                f"the {stack} stack's {' and '.join(left)} are still there after "
                f"{ws.stack.timeout:.0f}s",
                tip=f"run 'docker stack rm {stack}' again",
            )
        clock.sleep(POLL)
    return ws.runner.run(
        ["docker", "volume", "ls", "--quiet", "--filter", label], capture=True, query=True
    ).stdout.split()


def short_image(ref: str) -> str:
    """Return ``name@sha256:<12 hex>`` for a pinned reference, else the name and tag."""
    name, _, digest = ref.rsplit("/", 1)[-1].partition("@")
    return f"{name}@{digest[:19]}" if digest else name


@dataclass(frozen=True)
class StatusRow:
    """One line of ``inv deploy-status``."""

    service: str
    replicas: str
    update: str
    image: str
    ports: str


def status(ws: Workspace, stack: str) -> list[StatusRow]:
    """Return a row per service of the stack."""
    require_manager(ws)
    services = services_of(ws, stack)
    if not services:
        raise ConfigError(f"no stack {stack!r} on this swarm", tip="deploy it: 'inv deploy'")
    rows = []
    for name, service in sorted(services.items()):
        verdict = judge(service, job=service.job, rolling_back=True)
        rows.append(
            StatusRow(
                service=name,
                replicas="job " + verdict.progress
                if service.job
                else f"{service.running}/{service.replicas}",
                update=service.update or "-",
                image=short_image(service.image),
                ports=", ".join(service.ports) or "-",
            )
        )
    return rows


def format_status(rows: Sequence[StatusRow]) -> str:
    """Render ``inv deploy-status`` rows as a table."""
    return table(
        ("SERVICE", "REPLICAS", "UPDATE", "IMAGE", "PORTS"),
        [(r.service, r.replicas, r.update, r.image, r.ports) for r in rows],
    )
