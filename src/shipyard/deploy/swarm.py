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
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shipyard.core.errors import ConfigError, ShipyardError, StackNotReady, tail
from shipyard.core.workspace import Workspace, display_path
from shipyard.deploy.registry import pinned, registry_of, remote
from shipyard.env import datavolumes
from shipyard.env.datavolumes import fingerprint
from shipyard.env.environment import Environment, project_name
from shipyard.stack.health import Clock, MonotonicClock, last_health_output
from shipyard.stack.stacks import table

NAMESPACE = "com.docker.stack.namespace"  # the label docker stack deploy puts on what it makes
VERSION = "3.9"  # the newest Compose file format every `docker stack deploy` reads
POLL = 1.0
LOG_TAIL = 30
EMBEDDED = 8  # a secret this long found inside a value (a URL) moves the whole value
FAILURES = 3  # failed tasks of one spec before a first deploy is called failed
# Service keys Swarm reads as Compose has them.
KEPT = frozenset(
    {
        "cap_add",
        "cap_drop",
        "command",
        "dns",
        "dns_search",
        "entrypoint",
        "expose",
        "extra_hosts",
        "healthcheck",
        "hostname",
        "init",
        "labels",
        "logging",
        "networks",
        "read_only",
        "stdin_open",
        "stop_grace_period",
        "stop_signal",
        "sysctls",
        "tty",
        "ulimits",
        "user",
        "working_dir",
    }
)
# Compose keys shipyard turns into Swarm's, or whose job it does itself.
HANDLED = frozenset(
    {"build", "depends_on", "deploy", "environment", "image", "ports", "profiles"}
    | {"pull_policy", "restart", "tmpfs", "volumes"}
)
RESTART = {"no": "none", "on-failure": "on-failure", "always": "any", "unless-stopped": "any"}


# --- the stack file --------------------------------------------------------------------


@dataclass(frozen=True)
class Secret:
    """One value that reaches a service as a Swarm secret file."""

    variable: str  # the service's environment variable
    value: str
    key: str  # its name in the stack file
    name: str  # its name on the swarm (secrets are immutable: a new value, a new name)


def secrets_for(
    stack: str, services: Mapping[str, Any], values: Iterable[str]
) -> dict[tuple[str, str], Secret]:
    """Return, per (service, variable), the variables whose value holds a secret value.

    A variable that only embeds one (``postgres://u:<password>@db/x``) moves
    whole. The name carries a digest of the value, so a new value is a new
    secret and an unchanged one redeploys nothing.
    """
    needles = [v for v in values if v]
    found: dict[tuple[str, str], Secret] = {}
    for service, spec in services.items():
        for variable, raw in ((spec or {}).get("environment") or {}).items():
            if raw is None:
                continue
            value = str(raw).replace("$$", "$")  # Compose's model escapes $ for re-reading
            if value in needles or any(
                len(needle) >= EMBEDDED and needle in value for needle in needles
            ):
                key = f"{variable.lower()}_{fingerprint(f'{stack}/{variable}', value)[:12]}"
                found[service, variable] = Secret(variable, value, key, f"{stack}_{key}")
    return found


def _resources(resources: Mapping[str, Any]) -> dict[str, Any]:
    """Compose's model gives cpus as a number and memory in bytes; the v3 format wants text."""
    return {
        kind: {k: str(v) for k, v in (limits or {}).items() if v not in (None, "", 0)}
        for kind, limits in resources.items()
        if limits
    }


def _deploy(spec: Mapping[str, Any], *, job: bool, side_by_side: bool) -> dict[str, Any]:
    given = dict(spec.get("deploy") or {})
    deploy: dict[str, Any] = {k: v for k, v in given.items() if v not in (None, {}, [])}
    if "resources" in deploy:
        deploy["resources"] = _resources(deploy["resources"])
    if job:
        # Run once per new spec; shipyard watches the outcome. Swarm's updater
        # would call a finished task a failure and roll back (re-running the
        # old version), so the update itself never fails.
        deploy["replicas"] = 1
        deploy["restart_policy"] = {"condition": "none"}
        update = {"parallelism": 1, "order": "stop-first", "failure_action": "continue"}
        deploy["update_config"] = {**update, **(given.get("update_config") or {})}
        return deploy
    if "restart_policy" not in deploy and spec.get("restart"):
        deploy["restart_policy"] = {"condition": RESTART.get(str(spec["restart"]), "any")}
    order = "start-first" if side_by_side else "stop-first"
    update = {"parallelism": 1, "order": order, "failure_action": "rollback"}
    deploy["update_config"] = {**update, **(given.get("update_config") or {})}
    deploy["rollback_config"] = {
        "parallelism": 1,
        "order": order,
        **(given.get("rollback_config") or {}),
    }
    return deploy


def _ports(ports: Sequence[Mapping[str, Any]], mode: str) -> list[dict[str, Any]]:
    converted = []
    for port in ports:
        entry: dict[str, Any] = {
            "target": int(port["target"]),
            "protocol": port.get("protocol") or "tcp",
            "mode": mode or port.get("mode") or "ingress",
        }
        if port.get("published"):
            entry["published"] = int(str(port["published"]).split("-")[0])
        converted.append(entry)
    return converted


def _mounts(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    mounts = []
    for volume in spec.get("volumes") or []:
        entry = {k: volume[k] for k in ("type", "source", "target", "read_only") if volume.get(k)}
        if volume.get("type") == "tmpfs" and volume.get("tmpfs"):
            entry["tmpfs"] = volume["tmpfs"]
        mounts.append(entry)
    mounts += [
        {"type": "tmpfs", "target": str(path).split(":", 1)[0]} for path in spec.get("tmpfs") or []
    ]
    return mounts


@dataclass(frozen=True)
class StackFile:
    """The stack file and what of the Compose model Swarm has no use for."""

    document: dict[str, Any]
    ignored: dict[str, list[str]]  # key -> services that set it

    def render(self) -> str:
        """Return it as YAML."""
        return yaml.safe_dump(self.document, sort_keys=False, default_flow_style=False)


def deployed_services(environment: Environment) -> list[str]:
    """Return the services a deploy runs: those behind a profile are left out, as by ``up``."""
    return sorted(
        name for name, spec in environment.services.items() if not (spec or {}).get("profiles")
    )


def _ignored(spec: Mapping[str, Any]) -> list[str]:
    """Return the keys of ``spec`` that Swarm does not read (shipyard says so, once)."""
    keys = [
        key
        for key, value in spec.items()
        if key not in KEPT | HANDLED and value not in (None, False, [], {})
    ]
    if any(port.get("host_ip") for port in spec.get("ports") or []):
        keys.append("ports host_ip")
    return keys


def _environment(
    spec: Mapping[str, Any], mine: Sequence[Secret], *, as_files: bool
) -> dict[str, Any]:
    variables = {
        variable: value
        for variable, value in (spec.get("environment") or {}).items()
        if value is not None and variable not in {s.variable for s in mine}
    }
    if as_files:
        for secret in mine:
            variables[f"{secret.variable}_FILE"] = f"/run/secrets/{secret.variable}"
    return dict(sorted(variables.items()))


@dataclass(frozen=True)
class Start:
    """How an image starts when the service does not say: its ENTRYPOINT and CMD."""

    entrypoint: tuple[str, ...] = ()
    command: tuple[str, ...] = ()


def exporting(spec: Mapping[str, Any], mine: Sequence[Secret], image: Start) -> dict[str, Any]:
    """Return entrypoint and command that set each secret file as a variable, then start.

    For images that read no ``<VAR>_FILE``. ``$$`` is a literal ``$`` once
    ``docker stack deploy`` has interpolated the file.
    """
    exports = "".join(
        f'export {s.variable}="$$(cat /run/secrets/{s.variable})"; '
        for s in sorted(mine, key=lambda s: s.variable)
    )
    entrypoint = spec.get("entrypoint") or list(image.entrypoint)
    command = spec.get("command")
    if command is None and not spec.get("entrypoint"):
        command = list(image.command)
    return {
        "entrypoint": ["/bin/sh", "-c", exports + 'exec "$$@"', "shipyard-secrets", *entrypoint],
        "command": command or [],
    }


def service_spec(
    environment: Environment,
    name: str,
    pins: Mapping[str, str],
    secrets: Mapping[tuple[str, str], Secret],
    endpoint_mode: str,
    starts: Mapping[str, Start] | None = None,
) -> dict[str, Any]:
    """Return one service of the stack file.

    ``starts`` holds the services whose secrets become variables (images
    that read no ``<VAR>_FILE``), with how their image starts.
    """
    spec = environment.services[name] or {}
    mine = [secret for (service, _), secret in secrets.items() if service == name]
    start = (starts or {}).get(name)
    out: dict[str, Any] = {"image": pins.get(str(spec.get("image")), spec.get("image"))}
    out |= {k: v for k, v in spec.items() if k in KEPT and v not in (None, [], {})}
    if start is not None and mine:
        out |= exporting(spec, mine, start)
    parts: dict[str, Any] = {
        "environment": _environment(spec, mine, as_files=start is None),
        "secrets": [{"source": s.key, "target": s.variable} for s in mine],
        "ports": _ports(spec.get("ports") or [], "host" if endpoint_mode == "dnsrr" else ""),
        "volumes": _mounts(spec),
    }
    out |= {k: v for k, v in parts.items() if v}
    data = any(m.get("type") == "volume" for m in parts["volumes"])
    host_port = any(p["mode"] == "host" and "published" in p for p in parts["ports"])
    out["deploy"] = _deploy(
        spec, job=name in environment.jobs, side_by_side=not (data or host_port)
    )
    if endpoint_mode == "dnsrr":
        out["deploy"]["endpoint_mode"] = "dnsrr"
    return out


def stack_file(
    environment: Environment,
    pins: Mapping[str, str],
    secrets: Mapping[tuple[str, str], Secret],
    *,
    endpoint_mode: str = "vip",
    only: Sequence[str] | None = None,
    starts: Mapping[str, Start] | None = None,
) -> StackFile:
    """Turn the environment's Compose model into a stack file (``only``: those services)."""
    names = only if only is not None else deployed_services(environment)
    services = {
        name: service_spec(environment, name, pins, secrets, endpoint_mode, starts)
        for name in names
    }
    ignored: dict[str, list[str]] = {}
    for name in names:
        for key in _ignored(environment.services[name] or {}):
            ignored.setdefault(key, []).append(name)
    document: dict[str, Any] = {"version": VERSION, "services": services}
    networks = _top_level(environment, "networks", environment.networks)
    for spec in networks.values():
        if not spec.get("external"):
            spec.setdefault("driver", "overlay")
    document["networks"] = networks
    volumes = _top_level(environment, "volumes", environment.volumes)
    if volumes:
        document["volumes"] = volumes
    if secrets:
        document["secrets"] = {
            s.key: {"external": True, "name": s.name}
            for s in sorted(set(secrets.values()), key=lambda s: s.key)
        }
    return StackFile(document, {k: sorted(set(v)) for k, v in sorted(ignored.items())})


def _top_level(environment: Environment, kind: str, names: Sequence[str]) -> dict[str, Any]:
    """Networks or volumes, without the names Compose gave them (Swarm prefixes the stack)."""
    declared = environment.top_level.get(kind) or {}
    found: dict[str, Any] = {}
    for key in names or ["default"] * (kind == "networks"):
        spec = dict(declared.get(key) or {})
        if spec.get("name") == f"{environment.project}_{key}" and not spec.get("external"):
            del spec["name"]
        found[key] = {k: v for k, v in spec.items() if v not in (None, {}, [], False)}
    return found


# --- phases ------------------------------------------------------------------------------


def phases(environment: Environment, services: Sequence[str]) -> list[list[str]]:
    """Return the services to deploy step by step: jobs' needs, then the jobs, then all.

    A job's needs (a database) converge before the job starts; the services
    that wait for the job are updated only after it exited 0.
    """
    jobs = sorted(set(services) & environment.jobs)
    if not jobs:
        return [list(services)]
    needs: set[str] = set()
    pending = [
        dep for job in jobs for dep in (environment.services[job] or {}).get("depends_on") or {}
    ]
    while pending:
        name = pending.pop()
        if name not in needs and name not in jobs:
            needs.add(name)
            pending += list((environment.services.get(name) or {}).get("depends_on") or {})
    steps = [sorted(needs)] if needs else []
    return [*steps, sorted(needs | set(jobs)), list(services)]


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


@dataclass(frozen=True)
class Task:
    """One Swarm task, as ``docker inspect`` reports it."""

    id: str
    service: str
    state: str
    desired: str
    error: str
    created: str
    spec: Mapping[str, Any]
    exit_code: int | None = None
    container: str = ""


@dataclass(frozen=True)
class Service:
    """One Swarm service and its tasks."""

    name: str
    replicas: int
    spec: Mapping[str, Any]
    update: str
    message: str
    image: str
    tasks: tuple[Task, ...] = ()
    ports: tuple[str, ...] = ()
    previous: bool = False  # the engine keeps a previous spec to roll back to

    @property
    def job(self) -> bool:
        """A one-shot job: its task is never restarted."""
        return (self.spec.get("RestartPolicy") or {}).get("Condition") == "none"

    def current(self) -> list[Task]:
        """Return the tasks of the service's present spec, newest first."""
        container = self.spec.get("ContainerSpec") or {}
        mine = [t for t in self.tasks if _same_spec(t.spec.get("ContainerSpec") or {}, container)]
        return sorted(mine, key=lambda t: t.created, reverse=True)

    @property
    def running(self) -> int:
        """Return how many tasks of the present spec run (healthy, when checked)."""
        return sum(1 for t in self.current() if t.state == "running" and t.desired == "running")


def _same_spec(task: Mapping[str, Any], service: Mapping[str, Any]) -> bool:
    """Tell whether a task runs the service's spec (the engine fills defaults into the latter)."""
    return bool(task) and all(service.get(key) == value for key, value in task.items())


def _task(row: Mapping[str, Any], services: Mapping[str, str]) -> Task:
    status = row.get("Status") or {}
    container = status.get("ContainerStatus") or {}
    return Task(
        id=str(row.get("ID", "")),
        service=services.get(str(row.get("ServiceID", "")), ""),
        state=str(status.get("State", "")),
        desired=str(row.get("DesiredState", "")),
        error=str(status.get("Err") or ""),
        container=str(container.get("ContainerID") or ""),
        created=str(row.get("CreatedAt", "")),
        spec=row.get("Spec") or {},
        exit_code=container.get("ExitCode"),
    )


def parse_services(services_json: str, tasks_json: str, stack: str) -> dict[str, Service]:
    """Build services (keyed by their name in the stack file) from ``docker inspect`` output."""
    rows = json.loads(services_json or "[]") or []
    ids = {str(row["ID"]): str(row["Spec"]["Name"]) for row in rows}
    tasks = [_task(row, ids) for row in json.loads(tasks_json or "[]") or []]
    found = {}
    for row in rows:
        spec = row.get("Spec") or {}
        name = str(spec.get("Name", ""))
        mode = spec.get("Mode") or {}
        replicas = int(((mode.get("Replicated") or {}).get("Replicas")) or 0)
        status = row.get("UpdateStatus") or {}
        template = spec.get("TaskTemplate") or {}
        ports = (row.get("Endpoint") or {}).get("Ports") or []
        found[name.removeprefix(f"{stack}_")] = Service(
            name=name,
            replicas=replicas,
            spec=template,
            update=str(status.get("State", "")),
            message=str(status.get("Message", "")),
            image=str((template.get("ContainerSpec") or {}).get("Image", "")),
            tasks=tuple(t for t in tasks if t.service == name),
            ports=tuple(
                f"{p.get('PublishedPort')}->{p.get('TargetPort')}/{p.get('Protocol', 'tcp')}"
                for p in ports
                if p.get("PublishedPort")
            ),
            previous=bool(row.get("PreviousSpec")),
        )
    return found


def services_of(ws: Workspace, stack: str) -> dict[str, Service]:
    """Return the stack's services with their tasks (three queries)."""
    listed = ws.runner.run(
        ["docker", "service", "ls", "--quiet", "--filter", f"label={NAMESPACE}={stack}"],
        capture=True,
        query=True,
    ).stdout.split()
    if not listed:
        return {}
    services = ws.runner.run(
        ["docker", "service", "inspect", *listed], capture=True, query=True, check=False
    ).stdout
    task_ids = ws.runner.run(
        ["docker", "service", "ps", "--quiet", "--no-trunc", *listed],
        capture=True,
        query=True,
        check=False,
    ).stdout.split()
    tasks = (
        ws.runner.run(
            ["docker", "inspect", *task_ids], capture=True, query=True, check=False
        ).stdout
        if task_ids
        else "[]"
    )
    return parse_services(services or "[]", tasks or "[]", stack)


def logs_of(ws: Workspace, task: Task) -> str:
    """Return the task's last health check (when it had one) and its last log lines."""
    parts = []
    if task.container:
        check = last_health_output(ws.runner, task.container)
        if check:
            parts.append(f"its last health check: {tail(check, 5)}")
    result = ws.runner.run(
        ["docker", "service", "logs", "--no-task-ids", "--tail", str(LOG_TAIL), task.id],
        capture=True,
        check=False,
        query=True,
    )
    logs = tail((result.stdout + result.stderr).strip(), LOG_TAIL)
    if logs:
        parts.append(f"its last log lines:\n{logs}")
    return "\n".join(parts)


@dataclass(frozen=True)
class Verdict:
    """Where one service stands in a deploy: done, failed (and why), or still going."""

    done: bool
    progress: str
    failed: Task | None = None
    reason: str = ""


def _judge_job(service: Service) -> Verdict:
    current = service.current()
    latest = current[0] if current else None
    if latest is None:
        return Verdict(done=False, progress="waiting to start")
    if latest.state == "complete":
        return Verdict(done=True, progress="completed")
    if latest.state in {"failed", "rejected", "shutdown", "orphaned"}:
        code = f"exit {latest.exit_code}" if latest.exit_code else latest.state
        return Verdict(done=False, progress="failed", failed=latest, reason=latest.error or code)
    return Verdict(done=False, progress=latest.state)


def judge(service: Service, *, job: bool, rolling_back: bool = False) -> Verdict:
    """Decide whether ``service`` has converged, failed, or is still on its way."""
    if job:
        return _judge_job(service)
    current = service.current()
    stopped = {
        "paused": "paused",
        "rollback_paused": "paused",
        "rollback_completed": "" if rolling_back else "rolled back",
    }.get(service.update)
    if stopped:
        failed = next((t for t in current if t.state in {"failed", "rejected"}), None)
        failed = failed or _newest_failure(service)
        return Verdict(done=False, progress=stopped, failed=failed, reason=service.message)
    progress = f"{service.running}/{service.replicas} running"
    if service.update in {"updating", "rollback_started"}:
        return Verdict(done=False, progress=f"{progress}, {service.update.replace('_', ' ')}")
    failures = [t for t in current if t.state in {"failed", "rejected"}]
    if service.running < service.replicas and len(failures) >= FAILURES:
        return Verdict(done=False, progress=progress, failed=failures[0], reason=failures[0].error)
    return Verdict(done=service.running >= service.replicas, progress=progress)


def _newest_failure(service: Service) -> Task | None:
    failures = [t for t in service.tasks if t.state in {"failed", "rejected"}]
    return max(failures, key=lambda t: t.created, default=None)


def converge(
    ws: Workspace,
    stack: str,
    names: Sequence[str],
    jobs: Iterable[str] = (),
    *,
    rolling_back: bool = False,
    clock: Clock | None = None,
    poll: float = POLL,
) -> None:
    """Wait until every service in ``names`` runs its new spec healthy and every job exited 0."""
    clock = clock or MonotonicClock()
    jobs = set(jobs)
    start = clock()
    deadline = start + ws.stack.timeout
    said: dict[str, str] = {}
    while True:
        services = services_of(ws, stack)
        pending = []
        for name in names:
            service = services.get(name)
            if service is None:
                pending.append(name)
                continue
            verdict = judge(service, job=name in jobs, rolling_back=rolling_back)
            if verdict.reason or verdict.failed:
                raise _failure(ws, stack, name, verdict)
            if said.get(name) != verdict.progress:
                said[name] = verdict.progress
                ws.say(f"{name}: {verdict.progress} after {clock() - start:.1f}s")
            if not verdict.done:
                pending.append(name)
        if not pending:
            return
        if clock() >= deadline:
            raise StackNotReady(
                f"the {stack} stack did not converge in {ws.stack.timeout:.0f}s: "
                f"{', '.join(pending)} ({'; '.join(said.get(n, 'not created') for n in pending)})",
                tip=f"'inv deploy-status --stack {stack}' shows where it stands; raise timeout "
                "in [tool.shipyard] for slow updates",
            )
        clock.sleep(poll)


def _failure(ws: Workspace, stack: str, name: str, verdict: Verdict) -> StackNotReady:
    logs = logs_of(ws, verdict.failed) if verdict.failed else ""
    task = verdict.failed
    error = task.error if task and task.error else verdict.reason
    details = "\n".join(
        part
        for part in (
            f"{name}: {verdict.progress}: {verdict.reason}" if verdict.reason else "",
            f"failing task {task.id[:12]}: {error}" if task else "",
            logs,
        )
        if part
    )
    kept = "the previous version keeps serving" if verdict.progress == "rolled back" else ""
    return StackNotReady(
        f"{name} did not converge ({verdict.progress}){': ' + kept if kept else ''}",
        details=details,
        tip=f"fix what the task says, then deploy again; 'docker service ps {stack}_{name} "
        "--no-trunc' lists its tasks",
    )


# --- commands ---------------------------------------------------------------------------


def create_secrets(ws: Workspace, stack: str, secrets: Iterable[Secret]) -> list[str]:
    """Create the Swarm secrets not there yet; values go through a private file, never argv."""
    existing = set(
        ws.runner.run(
            ["docker", "secret", "ls", "--format", "{{.Name}}"], capture=True, query=True
        ).stdout.split()
    )
    created = []
    with tempfile.TemporaryDirectory(prefix="shipyard-secret-") as folder:
        for secret in sorted(set(secrets), key=lambda s: s.name):
            if secret.name in existing:
                continue
            path = Path(folder) / secret.key
            path.write_text(secret.value, encoding="utf-8")
            path.chmod(0o600)
            ws.runner.run(
                [
                    "docker",
                    "secret",
                    "create",
                    "--label",
                    f"{NAMESPACE}={stack}",
                    secret.name,
                    str(path),
                ],
                capture=True,
            )
            path.unlink()
            created.append(secret.name)
    return created


def _leaks(text: str, values: Iterable[str]) -> None:
    if any(value and value in text for value in values):  # pragma: no cover - a bug if it fires
        msg = "a secret value would land in the stack file"
        raise ShipyardError(msg, tip="report it; nothing was deployed")


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
            _leaks(text, values)
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
