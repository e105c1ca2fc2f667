"""The production target: non-root, tini as PID 1, no build tools, clean SIGTERM."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.integration.realstack import Stack, docker


@pytest.fixture(scope="module")
def image(stack: Stack) -> str:
    result = stack.run("inv", "docker-build", "--target", "production")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.splitlines()[-1] == f"{stack.name}:production"
    return f"{stack.name}:production"


@pytest.fixture
def container(image: str) -> Iterator[str]:
    cid = docker("run", "--detach", image).stdout.strip()
    try:
        yield cid
    finally:
        docker("rm", "--force", "--volumes", cid, check=False)


def test_runs_as_uid_1000(image: str) -> None:
    """The image's user is UID 1000, not root."""
    assert docker("run", "--rm", "--entrypoint", "id", image, "-u").stdout.strip() == "1000"


def test_has_no_uv_compilers_or_caches(image: str) -> None:
    """Only the venv and the runtime: no uv, no compilers, no uv cache."""
    probe = docker(
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        image,
        "-c",
        "command -v uv gcc cc; ls -d /root/.cache/uv 2>/dev/null; true",
    )
    assert probe.stdout.strip() == ""


def test_tini_is_pid_1_and_sigterm_stops_cleanly(container: str) -> None:
    """`docker stop` ends uvicorn through tini: exit 0 or 143, never 137 (killed)."""
    deadline = time.monotonic() + 30
    while "Application startup complete" not in docker("logs", container).stderr:
        assert time.monotonic() < deadline, docker("logs", container).stderr
        time.sleep(0.2)
    assert docker("exec", container, "cat", "/proc/1/comm").stdout.strip() == "tini"
    docker("stop", "--time", "10", container)
    code = int(docker("inspect", "--format", "{{.State.ExitCode}}", container).stdout)
    assert code in {0, 143}


def test_labels_name_the_target(image: str) -> None:
    """Images carry the target they were built from."""
    labels = docker("inspect", "--format", '{{index .Config.Labels "dev.shipyard.target"}}', image)
    assert labels.stdout.strip() == "production"
