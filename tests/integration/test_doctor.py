"""`inv doctor` names each broken prerequisite with its fix; `inv bootstrap` stops on one.

On an adopted fixture project (pip + Flask): a healthy machine passes; an
unreachable engine (DOCKER_HOST pointing nowhere), a published port another
program holds, a script with CRLF line endings in the build context, and a
malformed env file each fail their own check, exit 1, no traceback.
"""

from __future__ import annotations

import json
import shutil
import socket
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.realstack import REPO, Stack, free_port, remove_everything


@pytest.fixture
def adopted(tmp_path: Path) -> Iterator[Stack]:
    """Init a copy of the pip + Flask fixture, with a free dev port in env/.env.dev."""
    name = f"sy-dr-{uuid.uuid4().hex[:6]}"
    root = tmp_path / name
    shutil.copytree(REPO / "tests/fixtures/adopt/pip-flask", root)
    stack = Stack(root, name, free_port())
    assert stack.run("shipyard", "init", "--no-verify").returncode == 0
    assert stack.run("inv", "env-init", "--env", "dev").returncode == 0
    dev = root / "env/.env.dev"
    dev.write_text(dev.read_text().replace("APP_PORT=8000", f"APP_PORT={stack.api_port}"))
    try:
        yield stack
    finally:
        remove_everything(name)


def checks(
    stack: Stack, env: dict[str, str] | None = None
) -> tuple[int, list[dict[str, str]], str]:
    done = stack.run("inv", "doctor", "--json", env=env)
    return done.returncode, json.loads(done.stdout), done.stderr


def failing(found: list[dict[str, str]]) -> list[dict[str, str]]:
    return [c for c in found if c["status"] == "fail"]


def test_a_healthy_machine_passes(adopted: Stack) -> None:
    """Engine, Compose, builder, disk, the free port, env files and scripts: nothing fails."""
    code, found, _ = checks(adopted)
    assert failing(found) == []
    assert code == 0
    assert {c["name"] for c in found} == {
        "engine",
        "compose",
        "builder",
        "disk",
        "ports",
        "env",
        "scripts",
    }
    assert f"127.0.0.1:{adopted.api_port} free for app" in [c["detail"] for c in found]


def test_engine_down(adopted: Stack) -> None:
    """An engine that does not answer fails `engine`, skips what needs it, still checks the rest."""
    code, found, stderr = checks(adopted, env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert code == 1
    assert [c["name"] for c in failing(found)] == ["engine"]
    assert failing(found)[0]["detail"].startswith(
        "not reachable through DOCKER_HOST=unix:///nonexistent/docker.sock"
    )
    assert "start Docker Desktop" in failing(found)[0]["fix"]
    assert {c["name"]: c["status"] for c in found}["ports"] == "skip"
    assert stderr.startswith("ERROR: 1 check(s) failed: engine")
    assert "Traceback" not in stderr


def test_port_taken(adopted: Stack) -> None:
    """A program on the dev port fails `ports`, naming the variable that moves it."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", adopted.api_port))
        holder.listen()
        code, found, _ = checks(adopted)
    assert code == 1
    assert failing(found) == [
        {
            "name": "ports",
            "status": "fail",
            "detail": f"127.0.0.1:{adopted.api_port} (app) is taken by another program",
            "fix": f"stop what listens there ('lsof -i :{adopted.api_port}'), "
            "or set APP_PORT in env/.env.dev",
        }
    ]


def test_crlf_script(adopted: Stack) -> None:
    """A shell script with CRLF endings in the build context fails `scripts`; an ignored one does not."""
    (adopted.root / "docker/entrypoint.sh").write_bytes(b'#!/bin/sh\r\nexec "$@"\r\n')
    (adopted.root / ".venv").mkdir()
    (adopted.root / ".venv/activate.sh").write_bytes(b"#!/bin/sh\r\n")  # .dockerignore'd
    code, found, _ = checks(adopted)
    assert code == 1
    [script] = failing(found)
    assert script["name"] == "scripts"
    assert script["detail"].startswith("CRLF line endings in ")
    assert script["detail"].split(":")[0].endswith("docker/entrypoint.sh")
    assert "activate.sh" not in script["detail"]
    assert "dos2unix" in script["fix"]


def test_invalid_env_file(adopted: Stack) -> None:
    """A malformed env file fails `env` for its environment, with the command that lists it all."""
    (adopted.root / "env/.env.dev").write_text("SECRET_KEY\nthis is not a line\n")
    code, found, _ = checks(adopted)
    assert code == 1
    [env] = failing(found)
    assert env["name"] == "env"
    assert env["detail"].startswith("dev: ")
    assert env["fix"] == "run 'inv env-check --env dev' and fix each line"


def test_bootstrap_stops_on_a_failed_check(adopted: Stack) -> None:
    """Bootstrap runs doctor first: a taken port stops it before any build or container."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", adopted.api_port))
        holder.listen()
        done = adopted.run("inv", "bootstrap")
    assert done.returncode == 1
    assert "FAIL  ports" in done.stdout
    assert done.stderr.startswith("ERROR: not ready to start the dev stack: 1 check(s) failed")
    assert adopted.leftovers() == {"containers": [], "networks": [], "volumes": []}


def test_bootstrap_from_a_fresh_clone_to_a_healthy_stack_twice(adopted: Stack) -> None:
    """doctor, env files, build, up, wait, URLs; a second run finds it all done and stays up."""
    (adopted.root / "env/.env.dev").unlink()  # a fresh clone has no env file yet
    port = {"APP_PORT": str(adopted.api_port)}  # the shell wins over env files, as in Compose
    first = adopted.run("inv", "bootstrap", env=port)
    try:
        assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
        assert "doctor: " in first.stdout
        assert "dev stack is up: 1 containers ready" in first.stdout
        assert (adopted.root / "env/.env.dev").is_file()
        second = adopted.run("inv", "bootstrap", env=port)
        assert second.returncode == 0, second.stderr[-2000:]
        assert "dev stack is up: 1 containers ready" in second.stdout
        url = f"http://127.0.0.1:{adopted.api_port}/"
        assert f"app        http://localhost:{adopted.api_port}" in second.stdout
        with urllib.request.urlopen(url, timeout=5) as answer:
            assert json.load(answer) == {"greeting": "hello"}
    finally:
        adopted.run("inv", "dev-down")
