"""Ready means ready, one command per stack: crash loops and races on a private copy, for real.

A service with no health check that exits and restarts must fail the start at
once (its exit code, its last words), not count as ready because it was
"running" when polled; two commands on one stack take turns.
"""

from __future__ import annotations

import os
import subprocess
import time

from shipyard.stack.locks import locks_dir
from tests.integration.realstack import BIN, Stack, docker

# A dependency with no health check that dies at once and is restarted by the engine.
FLAKY = """  flaky:
    image: python:3.12-slim
    command: ["python", "-c", "print('flaky-said-goodbye', flush=True); raise SystemExit(3)"]
    restart: unless-stopped

"""


def add_service(stack: Stack, overlay: str, text: str) -> None:
    """Add a service (YAML under ``services:``) to one compose overlay of the copy."""
    path = stack.root / "compose" / overlay
    before = path.read_text()
    assert "\nservices:\n" in before
    path.write_text(before.replace("\nservices:\n", f"\nservices:\n{text}", 1))


def test_a_crash_loop_without_a_health_check_fails_dev_up(fresh: Stack) -> None:
    """dev-up: the restarting service is named with its exit code and its log, not 'ready'."""
    add_service(fresh, "docker-compose.dev.yml", FLAKY)
    done = fresh.run("inv", "dev-up")
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-3000:]
    error = next(line for line in out.splitlines() if line.startswith("ERROR: "))
    assert "flaky" in error, error
    assert "exit 3" in error, error
    assert "flaky-said-goodbye" in out.split(error, 1)[1]  # its log tail, under the error
    assert "containers ready" not in out
    assert "timed out" not in out  # failed at once, not after the stack's timeout
    assert "Traceback" not in out


def test_a_crash_loop_in_a_test_dependency_fails_docker_test_and_tears_down(
    fresh: Stack,
) -> None:
    """docker-test: the run fails on the restarting dependency, and nothing of it is left."""
    add_service(fresh, "docker-compose.test.yml", FLAKY)
    tests = fresh.root / "compose/docker-compose.test.yml"
    text = tests.read_text()
    needs = "    depends_on:\n      db:\n        condition: service_healthy\n"
    assert needs in text
    tests.write_text(
        text.replace(needs, needs + "      flaky:\n        condition: service_started\n", 1)
    )
    done = fresh.run("nox", "-s", "docker-test")
    out = done.stdout + done.stderr
    assert done.returncode != 0, out[-3000:]
    error = next(line for line in out.splitlines() if "ERROR: " in line)
    assert "flaky" in error, error
    assert "exit 3" in error, error
    assert "Traceback" not in out
    assert fresh.leftovers(f"{fresh.name}-test") == {
        "containers": [],
        "networks": [],
        "volumes": [],
    }


def test_two_dev_ups_at_once_take_turns(fresh: Stack) -> None:
    """The second waits for the first, saying for whom; both end with the stack up."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    first = subprocess.Popen(
        [str(BIN / "inv"), "dev-up"],
        cwd=fresh.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        owner = locks_dir() / f"{fresh.name}-dev.owner"
        deadline = time.monotonic() + 120
        while not owner.is_file():
            assert first.poll() is None, first.communicate()[0][-3000:]
            assert time.monotonic() < deadline, "the first dev-up never took the stack"
            time.sleep(0.1)
        second = fresh.run("inv", "dev-up")
        first_out = first.communicate(timeout=600)[0]
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    out = second.stdout + second.stderr
    assert first.returncode == 0, first_out[-3000:]
    assert second.returncode == 0, out[-3000:]
    assert f"waiting for 'inv dev-up' (pid {first.pid}) to finish with {fresh.name}-dev" in out
    assert "Conflict" not in out + first_out
    running = docker(
        "ps", "--filter", f"label=com.docker.compose.project={fresh.name}-dev", "--quiet"
    ).stdout.split()
    assert len(running) >= 3  # db, redis, api, worker...: one stack, not two
    assert fresh.run("inv", "dev-down").returncode == 0
