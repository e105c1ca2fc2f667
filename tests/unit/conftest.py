"""Unit-test fixtures: a project on disk, a scripted runner, and no stray processes."""

from __future__ import annotations

import os
import subprocess
import tempfile
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from shipyard.env.environment import Environment, Image
from tests.unit.fakes import FakeRunner

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


def write_tree(root: Path, files: Mapping[str, str]) -> Path:
    """Write each file (path under ``root``: text) as given; return ``root``."""
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


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


@pytest.fixture
def fake_runner() -> FakeRunner:
    return FakeRunner()


class _NoProcess:
    def __init__(self, *args: object, **_kwargs: object) -> None:
        msg = f"unit tests must not start processes: {args[:1]!r}"
        raise AssertionError(msg)


@pytest.fixture(autouse=True)
def private_state(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Keep what shipyard remembers per machine (volume fingerprints, cached models) inside the test."""
    state = tmp_path / "state"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    # The runs folder's lock files (tempfile.gettempdir()/shipyard-runs), not the machine's.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path_factory.mktemp("tmp")))
    return state


@pytest.fixture(autouse=True)
def no_package_index(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep unit tests off the network: init's wheel look-up reads no index (`PIP_NO_INDEX`)."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")


@pytest.fixture(autouse=True)
def no_real_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail loudly if a unit test would start a real process (use `real_processes`)."""
    monkeypatch.setattr(subprocess, "Popen", _NoProcess)


_ORIGINAL_POPEN = subprocess.Popen


@pytest.fixture
def real_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Allow real processes in this test (the subprocess runner's own tests)."""
    monkeypatch.setattr(subprocess, "Popen", _ORIGINAL_POPEN)


def environment(
    root: Path,
    name: str,
    services: dict[str, Any],
    *,
    images: tuple[Image, ...] = (),
    profiles: tuple[str, ...] = (),
) -> Environment:
    """Return an Environment as `resolve` would, for the fixture project at ``root``."""
    return Environment(
        name=name,
        project=f"demo-app-{name}",
        files=(root / "compose/docker-compose.yml", root / f"compose/docker-compose.{name}.yml"),
        env_files=(root / f"env/.env.{name}",),
        services=services,
        images=images,
        profiles=profiles,
    )


def app_image(root: Path, target: str = "test", services: tuple[str, ...] = ("tests",)) -> Image:
    """Return the fixture project's image of ``target`` (context: the project root)."""
    return Image(f"demo-app:{target}", root, root / "docker/Dockerfile", target, services=services)
