"""The stack file a deploy hands to Swarm, built from the environment's Compose model.

Compose's merged model in, the v3.9 document ``docker stack deploy`` reads
out, with the keys Swarm would ignore and the steps a deploy takes: no engine
call, so every rule of the translation is checked without a swarm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from shipyard.deploy.swarmsecrets import Secret
from shipyard.env.environment import Environment

VERSION = "3.9"  # the newest Compose file format every `docker stack deploy` reads
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
