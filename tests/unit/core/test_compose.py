from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shipyard.core.compose import (
    Container,
    Port,
    compose_command,
    load_yaml,
    parse_ps,
    service_dependencies,
)
from shipyard.core.engine import Engine
from shipyard.core.errors import ConfigError

PLUGIN = Engine(buildx=False, compose=("docker", "compose"))
STANDALONE = Engine(buildx=False, compose=("docker-compose",))


def test_compose_command_names_project_files_env_files_profiles_then_args() -> None:
    """The project, every file, the env files, the profiles, then the command's own args."""
    argv = compose_command(
        PLUGIN,
        "up",
        "--detach",
        project="demo-app-dev",
        files=[Path("compose/docker-compose.yml"), Path("compose/docker-compose.dev.yml")],
        env_files=[Path("env/.env.dev")],
        profiles=["etl"],
    )
    assert argv == [
        "docker",
        "compose",
        "--project-name",
        "demo-app-dev",
        "--file",
        "compose/docker-compose.yml",
        "--file",
        "compose/docker-compose.dev.yml",
        "--env-file",
        "env/.env.dev",
        "--profile",
        "etl",
        "up",
        "--detach",
    ]


def test_standalone_compose() -> None:
    """docker-compose v1-style binary."""
    argv = compose_command(STANDALONE, "ps", project="p", files=[Path("c.yml")])
    assert argv == ["docker-compose", "--project-name", "p", "--file", "c.yml", "ps"]


def test_paths_outside_the_current_folder_are_absolute(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from elsewhere, the command still points at the right files."""
    monkeypatch.chdir(project.parent)
    argv = compose_command(PLUGIN, "config", project="p", files=[project / "compose/x.yml"])
    assert argv[5] == "demo/compose/x.yml"


def test_load_yaml_reads_composes_reset_and_override_tags(tmp_path: Path) -> None:
    """Valid overlays using !reset and !override are read, not rejected as bad YAML."""
    path = tmp_path / "o.yml"
    path.write_text(
        "services:\n  api:\n    ports: !reset []\n    environment: !override\n      A: b\n"
    )
    assert load_yaml(path) == {"services": {"api": {"ports": [], "environment": {"A": "b"}}}}


def test_load_yaml_names_a_broken_file(project: Path) -> None:
    """Broken YAML is a ConfigError naming the file, not a traceback."""
    path = project / "compose/bad.yml"
    path.write_text("services: [\n")
    with pytest.raises(ConfigError, match=r"compose/bad.yml is not valid YAML"):
        load_yaml(path)


def test_service_dependencies_follow_the_merged_model() -> None:
    """Direct and indirect dependencies, from Compose's merged depends_on."""
    services: dict[str, Any] = {
        "tests": {"depends_on": {"api": {}, "db": {}}},
        "api": {"depends_on": {"migrate": {}}},
        "migrate": {"depends_on": {"db": {}}},
        "db": {},
        "worker": {"depends_on": {"db": {}}},
    }
    assert service_dependencies(services, "tests") == ["api", "db", "migrate"]
    with pytest.raises(ConfigError, match="no service 'nope' to run the tests in"):
        service_dependencies(services, "nope")


ROW_API = {
    "ID": "abc",
    "Name": "p-api-1",
    "Service": "api",
    "State": "running",
    "Health": "healthy",
    "ExitCode": 0,
    "Publishers": [
        {"URL": "127.0.0.1", "TargetPort": 8000, "PublishedPort": 8000, "Protocol": "tcp"},
        {"URL": "", "TargetPort": 9000, "PublishedPort": 0, "Protocol": "tcp"},
    ],
}
ROW_JOB = {
    "ID": "def",
    "Name": "p-migrate-1",
    "Service": "migrate",
    "State": "exited",
    "Health": "",
    "ExitCode": 3,
    "Publishers": None,
}


@pytest.mark.parametrize(
    "output",
    [
        pytest.param("\n".join(json.dumps(r) for r in (ROW_JOB, ROW_API)), id="one-object-a-line"),
        pytest.param(json.dumps([ROW_JOB, ROW_API]), id="json-array"),
    ],
)
def test_parse_ps_both_formats(output: str) -> None:
    """Newer Compose prints a line per container, older a JSON array: both parse the same."""
    assert parse_ps(output) == [
        Container(
            "abc", "p-api-1", "api", "running", "healthy", 0, (Port("127.0.0.1", 8000, 8000),)
        ),
        Container("def", "p-migrate-1", "migrate", "exited", "", 3, ()),
    ]


def test_parse_ps_empty() -> None:
    """No containers is an empty list."""
    assert parse_ps("") == []
    assert parse_ps("[]") == []


@pytest.mark.parametrize(
    ("container", "ready", "completed", "failed", "described"),
    [
        (
            Container("1", "n", "s", "running", "healthy", 0),
            True,
            False,
            False,
            "running (healthy)",
        ),
        (
            Container("1", "n", "s", "running", "", 0, status="Up 2 seconds"),
            True,
            False,
            False,
            "running",
        ),
        # no health check, just started: not ready until it has run the settle time
        (
            Container("1", "n", "s", "running", "", 0, status="Up Less than a second"),
            False,
            False,
            False,
            "running",
        ),
        (
            Container("1", "n", "s", "running", "", 0, status="Up About a minute"),
            True,
            False,
            False,
            "running",
        ),
        (
            Container("1", "n", "s", "running", "starting", 0),
            False,
            False,
            False,
            "running (starting)",
        ),
        (
            Container("1", "n", "s", "running", "unhealthy", 0),
            False,
            False,
            True,
            "running (unhealthy)",
        ),
        (Container("1", "n", "s", "exited", "", 0), False, True, False, "exited (0)"),
        (Container("1", "n", "s", "exited", "", 137), False, False, True, "exited (137)"),
        (Container("1", "n", "s", "created", "", 0), False, False, False, "created"),
        # a crash loop under a restart policy: a failure, with the exit its status gives
        (
            Container("1", "n", "s", "restarting", "", 0, status="Restarting (3) 1 second ago"),
            False,
            False,
            True,
            "restarting (exit 3)",
        ),
    ],
    ids=[
        "healthy",
        "no-healthcheck",
        "just-started",
        "settled",
        "starting",
        "unhealthy",
        "job-done",
        "crashed",
        "created",
        "restarting",
    ],
)
def test_container_states(
    container: Container, ready: bool, completed: bool, failed: bool, described: str
) -> None:
    """What counts as ready, a finished job, or a failure."""
    assert (container.ready, container.completed, container.failed) == (ready, completed, failed)
    assert container.describe() == described


@pytest.mark.parametrize(
    ("port", "url"),
    [
        (Port("0.0.0.0", 8080, 8000), "http://localhost:8080"),
        (Port("127.0.0.1", 15432, 5432), "postgresql://localhost:15432"),
        (Port("::", 6380, 6379), "redis://localhost:6380"),
        (Port("10.0.0.5", 80, 80), "http://10.0.0.5:80"),
    ],
)
def test_port_urls(port: Port, url: str) -> None:
    """Published ports become URLs with the scheme of the well-known target port."""
    assert port.url() == url
