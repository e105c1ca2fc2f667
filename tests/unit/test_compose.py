from __future__ import annotations

import json
from pathlib import Path

import pytest

from shipyard.compose import Container, Port, compose_command, parse_ps, project_name
from shipyard.config import load_stack
from shipyard.engine import Engine

PLUGIN = Engine(buildx=False, compose=("docker", "compose"))
STANDALONE = Engine(buildx=False, compose=("docker-compose",))


@pytest.mark.usefixtures("project")
def test_compose_command_names_files_project_and_env_files() -> None:
    """Base file, the overlay, a project of its own, then the env files, then the args."""
    stack = load_stack()
    argv = compose_command(
        PLUGIN, stack, "dev", "up", "--detach", env_files=[stack.env_dir / ".env.dev"]
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
        "up",
        "--detach",
    ]


@pytest.mark.usefixtures("project")
def test_standalone_compose_and_explicit_project() -> None:
    """docker-compose v1-style binary and a throwaway project name."""
    argv = compose_command(STANDALONE, load_stack(), "test", "ps", project="demo-app-test-1a2b")
    assert argv == [
        "docker-compose",
        "--project-name",
        "demo-app-test-1a2b",
        "--file",
        "compose/docker-compose.yml",
        "--file",
        "compose/docker-compose.test.yml",
        "ps",
    ]


def test_paths_outside_the_current_folder_are_absolute(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run from elsewhere, the command still points at the right files."""
    stack = load_stack()
    monkeypatch.chdir(project.parent)
    argv = compose_command(PLUGIN, stack, "ci", "config")
    assert argv[5] == "demo/compose/docker-compose.yml"


@pytest.mark.usefixtures("project")
def test_project_names_never_collide_across_environments() -> None:
    """Dev and test stacks (and each test run) have different project names."""
    stack = load_stack()
    assert project_name(stack, "dev") == "demo-app-dev"
    assert project_name(stack, "test") == "demo-app-test"
    assert project_name(stack, "test", "ab12cd34") == "demo-app-test-ab12cd34"


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
        (Container("1", "n", "s", "running", "", 0), True, False, False, "running"),
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
            False,
            "running (unhealthy)",
        ),
        (Container("1", "n", "s", "exited", "", 0), False, True, False, "exited (0)"),
        (Container("1", "n", "s", "exited", "", 137), False, False, True, "exited (137)"),
        (Container("1", "n", "s", "created", "", 0), False, False, False, "created"),
        (Container("1", "n", "s", "restarting", "", 0), False, False, False, "restarting"),
    ],
    ids=[
        "healthy",
        "no-healthcheck",
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
