"""Unit-test fixtures: a project on disk, a scripted runner, and no stray processes."""

from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from shipyard.errors import CommandFailed
from shipyard.process import Result

DOCKERFILE = """\
FROM python:3.13-slim AS base
FROM base AS builder
FROM base AS development
FROM development AS test
FROM base AS production
"""

PYPROJECT = """\
[project]
name = "Demo App"

[tool.shipyard]
builder = "docker"
compose = "docker compose"
"""

EXAMPLE = "POSTGRES_USER=demo\nPOSTGRES_PASSWORD=change-me\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Create a minimal stack in a temporary folder and make it the current folder."""
    root = tmp_path / "demo"
    write(root / "pyproject.toml", PYPROJECT)
    write(root / "docker/Dockerfile", DOCKERFILE)
    write(root / "compose/docker-compose.yml", "services: {}\n")
    for env in ("dev", "test", "ci", "prod"):
        write(root / f"compose/docker-compose.{env}.yml", "services: {}\n")
    write(root / "env/.env.example", EXAMPLE)
    write(root / "env/.env.ci", EXAMPLE)
    write(root / "env/.env.prod.example", "POSTGRES_PASSWORD=<replace me>\n")
    monkeypatch.chdir(root)
    for variable in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE"):
        monkeypatch.delenv(variable, raising=False)
    for variable in [v for v in os.environ if v.startswith("SHIPYARD_")]:
        monkeypatch.delenv(variable)
    return root


Script = Callable[[list[str]], tuple[Any, ...]]


@dataclass
class Call:
    """One command the fake runner was asked to run."""

    argv: list[str]
    options: dict[str, Any]


@dataclass
class FakeRunner:
    """A Runner that records commands and answers from a script (default: exit 0, no output)."""

    script: Script | None = None
    dry: bool = False
    calls: list[Call] = field(default_factory=list)

    def run(
        self,
        argv: Sequence[str],
        *,
        capture: bool = False,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        interactive: bool = False,
        query: bool = False,
    ) -> Result:
        command = list(argv)
        self.calls.append(
            Call(
                command,
                {
                    "capture": capture,
                    "check": check,
                    "env": dict(env or {}),
                    "interactive": interactive,
                    "query": query,
                },
            )
        )
        if self.dry and not query:
            return Result(tuple(command), 0)
        answer = self.script(command) if self.script else (0, "")
        code, out = answer[0], answer[1]
        err = answer[2] if len(answer) > 2 else ""
        if check and code:
            raise CommandFailed(command, code, stdout=out, stderr=err)
        return Result(tuple(command), code, out, err)

    @property
    def argvs(self) -> list[list[str]]:
        return [call.argv for call in self.calls]


@pytest.fixture
def fake_runner() -> FakeRunner:
    return FakeRunner()


class _NoProcess:
    def __init__(self, *args: object, **_kwargs: object) -> None:
        msg = f"unit tests must not start processes: {args[:1]!r}"
        raise AssertionError(msg)


@pytest.fixture(autouse=True)
def no_real_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if a unit test would start a real process (use `real_processes`)."""
    monkeypatch.setattr(subprocess, "Popen", _NoProcess)


_ORIGINAL_POPEN = subprocess.Popen


@pytest.fixture
def real_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Allow real processes in this test (the subprocess runner's own tests)."""
    monkeypatch.setattr(subprocess, "Popen", _ORIGINAL_POPEN)
