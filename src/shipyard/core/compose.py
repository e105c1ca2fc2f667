"""Argv for ``docker compose``, parsing of what it reports, and raw reads of its files.

Every command names its files (base + the environment's overlay), a project
name of its own per environment (so a test stack can never touch the dev
stack's containers or volumes) and the environment's env files. Compose
itself merges the files (``docker compose config``); the raw reads here only
answer "which file set this", and accept Compose's own YAML tags.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from shipyard.core.engine import Engine
from shipyard.core.errors import ConfigError
from shipyard.core.workspace import display_path


def compose_command(
    engine: Engine,
    *args: str,
    project: str,
    files: Sequence[Path],
    env_files: Sequence[Path] = (),
    profiles: Sequence[str] = (),
) -> list[str]:
    """Return ``docker compose -p P -f F... --env-file E... --profile X... <args>``."""
    argv = [*engine.compose, "--project-name", project]
    for path in files:
        argv += ["--file", display_path(path)]
    for path in env_files:
        argv += ["--env-file", display_path(path)]
    for profile in profiles:
        argv += ["--profile", profile]
    return [*argv, *args]


SCHEMES = {5432: "postgresql", 6379: "redis", 3306: "mysql", 27017: "mongodb", 5672: "amqp"}


@dataclass(frozen=True)
class Port:
    """A published port."""

    host: str
    published: int
    target: int

    def url(self) -> str:
        """Return a URL for it: the scheme from the well-known target port, else http."""
        host = "localhost" if self.host in {"", "0.0.0.0", "::", "127.0.0.1"} else self.host  # noqa: S104
        return f"{SCHEMES.get(self.target, 'http')}://{host}:{self.published}"


# A service with no health check is ready once it has run this long without a
# restart: a crash at start is seen, not passed for ready at the instant it runs.
SETTLE_SECONDS = 2
_UP = re.compile(r"^Up (?:(Less than a second)|(\d+) seconds?|(.+))")
_RESTARTING = re.compile(r"^Restarting \((-?\d+)\)")


@dataclass(frozen=True)
class Container:
    """One container of a stack as ``docker compose ps`` reports it."""

    id: str
    name: str
    service: str
    state: str
    health: str
    exit_code: int
    ports: tuple[Port, ...] = ()
    status: str = ""  # "Up 5 seconds (healthy)", "Restarting (3) 1 second ago"
    created: datetime | None = None  # when Compose created it

    @property
    def up_seconds(self) -> float:
        """Return how long it has run since its last start (0 when not running)."""
        match = _UP.match(self.status)
        if not match:
            return 0
        return 0 if match[1] else int(match[2]) if match[2] else 60

    @property
    def ready(self) -> bool:
        """Running and healthy; without a health check, running for the settle time."""
        if self.state != "running":
            return False
        return self.health == "healthy" or (self.health == "" and self.up_seconds >= SETTLE_SECONDS)

    @property
    def completed(self) -> bool:
        """A one-shot job that exited 0."""
        return self.state == "exited" and self.exit_code == 0

    @property
    def restarting(self) -> bool:
        """Between two runs of a restart policy: it stopped at least once."""
        return self.state == "restarting"

    @property
    def last_exit(self) -> int:
        """Return the exit code of its last run (a restarting one says it in its status)."""
        match = _RESTARTING.match(self.status)
        return int(match[1]) if match else self.exit_code

    @property
    def failed(self) -> bool:
        """Exited non-zero, dead, restarting (a crash a restart policy hides), or unhealthy.

        Unhealthy is Docker's verdict after the start period and every retry
        failed, as ``docker compose up --wait`` reads it: a worker whose process
        died under a reloader that lives on is one.
        """
        return (
            (self.state == "exited" and self.exit_code != 0)
            or self.state == "dead"
            or self.restarting
            or self.health == "unhealthy"
        )

    def describe(self) -> str:
        """Return e.g. ``running (healthy)``, ``exited (3)`` or ``restarting (exit 3)``."""
        if self.state == "exited":
            return f"exited ({self.exit_code})"
        if self.restarting:
            return f"restarting (exit {self.last_exit})"
        return f"{self.state} ({self.health})" if self.health else self.state


def _created(text: object) -> datetime | None:
    """Parse Compose's ``CreatedAt`` (``2026-12-02 19:24:33 +0000 UTC``), or None."""
    try:
        return datetime.strptime(" ".join(str(text).split()[:3]), "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return None


def parse_ps(output: str) -> list[Container]:
    """Parse ``docker compose ps --format json`` (a JSON array, or one object a line)."""
    text = output.strip()
    if not text:
        return []
    if text.startswith("["):
        rows = json.loads(text)
    else:
        rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    containers = [
        Container(
            id=str(row.get("ID", "")),
            name=str(row.get("Name", "")),
            service=str(row.get("Service", "")),
            state=str(row.get("State", "")).lower(),
            health=str(row.get("Health", "")).lower(),
            exit_code=int(row.get("ExitCode") or 0),
            status=str(row.get("Status", "")),
            created=_created(row.get("CreatedAt")),
            ports=tuple(
                Port(str(p.get("URL", "")), int(p["PublishedPort"]), int(p.get("TargetPort", 0)))
                for p in row.get("Publishers") or []
                if p.get("PublishedPort")
            ),
        )
        for row in rows
    ]
    return sorted(containers, key=lambda c: (c.service, c.name))


class _ComposeLoader(yaml.SafeLoader):
    """PyYAML's safe loader that also reads Compose's ``!reset`` and ``!override`` tags."""


def _tagged(loader: yaml.SafeLoader, node: yaml.Node) -> object:
    """Read a tagged node as its plain value: which file set a key is all we ask."""
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


for _tag in ("!reset", "!override"):
    _ComposeLoader.add_constructor(_tag, _tagged)


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a compose file as YAML, before interpolation; a broken file is a ConfigError."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_ComposeLoader)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{display_path(path)} is not valid YAML: {exc}".replace("\n", " "),
            tip="fix the file; 'docker compose config' shows the same error",
        ) from None
    return data if isinstance(data, dict) else {}


def job_services(services: Mapping[str, Any]) -> frozenset[str]:
    """Return the one-shot jobs: services another one waits for to complete successfully."""
    return frozenset(
        name
        for spec in services.values()
        for name, rule in ((spec or {}).get("depends_on") or {}).items()
        if (rule or {}).get("condition") == "service_completed_successfully"
    )


def service_dependencies(services: Mapping[str, Any], service: str) -> list[str]:
    """Return every service ``service`` depends on, directly or not, in Compose's merged model.

    ``services`` comes from ``config --profile '*'``, so a service behind a
    profile (like the test runner) is found too.
    """
    if service not in services:
        raise ConfigError(
            f"the stack has no service {service!r} to run the tests in",
            tip="add it to the test overlay, or set test-service in [tool.shipyard]",
        )
    found: set[str] = set()
    pending = sorted((services[service] or {}).get("depends_on") or {})
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending += sorted((services.get(name) or {}).get("depends_on") or {})
    return sorted(found)
