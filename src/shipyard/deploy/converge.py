"""What the swarm reports about a stack, and waiting until it converged.

``docker stack deploy`` returns once the swarm took the file; a service has
converged only when every replica of its new spec runs (healthy, when
checked) and a job's task exited 0. Judging that from ``docker inspect``
output needs no engine, so it is tested apart, and deploy, rollback and
status share it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shipyard.core.errors import StackNotReady, tail
from shipyard.core.workspace import Workspace
from shipyard.stack.health import Clock, MonotonicClock, last_health_output

NAMESPACE = "com.docker.stack.namespace"  # the label docker stack deploy puts on what it makes
POLL = 1.0
LOG_TAIL = 30
FAILURES = 3  # failed tasks of one spec before a first deploy is called failed


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
