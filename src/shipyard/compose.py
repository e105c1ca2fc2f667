"""Argv for ``docker compose`` and parsing of what it reports.

Every command names its files (base + the environment's overlay), a project
name of its own per environment (so a test stack can never touch the dev
stack's containers or volumes) and the environment's env files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from shipyard.config import Stack
from shipyard.engine import Engine
from shipyard.errors import ConfigError


def project_name(stack: Stack, env: str, run_id: str | None = None) -> str:
    """Return ``<project>-<env>``, or ``<project>-<env>-<run id>`` for a throwaway run."""
    stack.check_env(env)
    return f"{stack.project}-{env}" + (f"-{run_id}" if run_id else "")


def display_path(path: Path, cwd: Path | None = None) -> str:
    """Return ``path`` relative to ``cwd`` when it lies below it, else absolute."""
    here = cwd or Path.cwd()
    try:
        return str(path.relative_to(here))
    except ValueError:
        return os.fspath(path)


def compose_command(
    engine: Engine,
    stack: Stack,
    env: str,
    *args: str,
    env_files: Sequence[Path] = (),
    project: str | None = None,
    extra_files: Sequence[Path] = (),
) -> list[str]:
    """Return ``docker compose -p ... -f base -f overlay --env-file ... <args>``."""
    argv = [*engine.compose, "--project-name", project or project_name(stack, env)]
    for path in [*stack.compose_files(env), *extra_files]:
        argv += ["--file", display_path(path)]
    for path in env_files:
        argv += ["--env-file", display_path(path)]
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

    @property
    def ready(self) -> bool:
        """Running and healthy (or without a health check)."""
        return self.state == "running" and self.health in {"", "healthy"}

    @property
    def completed(self) -> bool:
        """A one-shot job that exited 0."""
        return self.state == "exited" and self.exit_code == 0

    @property
    def failed(self) -> bool:
        """Exited non-zero, dead, or unhealthy for good."""
        return (self.state == "exited" and self.exit_code != 0) or self.state == "dead"

    def describe(self) -> str:
        """Return e.g. ``running (healthy)`` or ``exited (3)``."""
        if self.state == "exited":
            return f"exited ({self.exit_code})"
        return f"{self.state} ({self.health})" if self.health else self.state


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
            ports=tuple(
                Port(str(p.get("URL", "")), int(p["PublishedPort"]), int(p.get("TargetPort", 0)))
                for p in row.get("Publishers") or []
                if p.get("PublishedPort")
            ),
        )
        for row in rows
    ]
    return sorted(containers, key=lambda c: (c.service, c.name))


def load_yaml(path: Path) -> dict[str, Any]:
    """Read a compose file as YAML, before interpolation; a broken file is a ConfigError."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(
            f"{display_path(path)} is not valid YAML: {exc}".replace("\n", " "),
            tip="fix the file; 'docker compose config' shows the same error",
        ) from None
    return data if isinstance(data, dict) else {}


def service_dependencies(files: Sequence[Path], service: str) -> list[str]:
    """Return every service ``service`` depends on, directly or not, across ``files``.

    Read from the files themselves, so a service behind a profile (like the
    test runner) is found too; ``depends_on`` entries of all files add up, as
    Compose merges them.
    """
    depends: dict[str, set[str]] = {}
    for path in files:
        data = load_yaml(path)
        for name, spec in (data.get("services") or {}).items():
            depends.setdefault(name, set()).update((spec or {}).get("depends_on") or [])
    if service not in depends:
        raise ConfigError(
            f"the stack has no service {service!r} to run the tests in",
            tip="add it to the test overlay, or set test-service in [tool.shipyard]",
        )
    found: set[str] = set()
    pending = sorted(depends[service])
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending += sorted(depends.get(name, set()))
    return sorted(found)
