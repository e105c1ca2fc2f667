"""The production target: non-root, tini as PID 1, no build tools, clean SIGTERM."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.integration.realstack import (
    BUDGET,
    Stack,
    docker,
    free_port,
    own_layers,
    production_overhead,
)


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


def test_the_prod_stack_runs_hardened(stack: Stack) -> None:
    """Read-only root, no capabilities, no-new-privileges: healthy, and only tmpfs is writable."""
    assert stack.run("inv", "env-init", "--env", "prod").returncode == 0
    env_prod = stack.root / "env/.env.prod"
    port = free_port()
    env_prod.write_text(
        re.sub(r"^API_PORT=.*$", f"API_PORT={port}", env_prod.read_text(), flags=re.MULTILINE)
    )
    try:
        up = stack.run("inv", "up", "--env", "prod")
        assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-3000:]
        assert "prod stack is up: 7 containers ready" in up.stdout  # two API replicas
        for container in ("api-1", "api-2", "worker-1", "migrate-1", "db-1", "redis-1", "proxy-1"):
            host = json.loads(
                docker(
                    "inspect", "--format", "{{json .HostConfig}}", f"{stack.name}-prod-{container}"
                ).stdout
            )
            assert host["ReadonlyRootfs"] is True, container
            assert host["CapDrop"] == ["ALL"], container
            assert "no-new-privileges:true" in host["SecurityOpt"], container
        api = f"{stack.name}-prod-api-1"
        outside = docker("exec", api, "touch", "/app/written", check=False)
        assert outside.returncode != 0
        assert "Read-only file system" in outside.stderr
        assert docker("exec", api, "touch", "/tmp/written", check=False).returncode == 0
        db = docker("exec", f"{stack.name}-prod-db-1", "touch", "/etc/written", check=False)
        assert "Read-only file system" in db.stderr
        status = docker("exec", api, "cat", "/proc/1/status").stdout
        assert "CapEff:\t0000000000000000" in status
        assert "NoNewPrivs:\t1" in status
        # The published port is nginx's, which passes requests on to the API replicas.
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as answer:
            assert json.loads(answer.read()) == {"status": "ok", "database": "ok", "redis": "ok"}
    finally:
        down = stack.run("inv", "down", "--env", "prod", "--volumes", "--yes")
        assert down.returncode == 0, down.stderr
    assert stack.leftovers(f"{stack.name}-prod") == {
        "containers": [],
        "networks": [],
        "volumes": [],
    }


def test_the_image_is_base_venv_and_code_within_budget(image: str) -> None:
    """Base + the dependencies' venv + src/ + at most 2 MB (tini, the user); apt never ran."""
    overhead = production_overhead(image, "python:3.13-slim")
    assert 0 < overhead <= BUDGET, overhead
    layers = own_layers(image, "python:3.13-slim")
    assert not [layer for layer in layers if "apt-get" in layer], layers
    newest = next(layer for layer in layers if layer.startswith(("COPY", "RUN", "ADD")))
    assert newest.startswith("COPY src ./src")  # the code: the last layer with files


def test_a_source_edit_rewrites_only_the_code_layer(stack: Stack, image: str) -> None:
    """Edit one module: every layer below src/ is the same (same digests), src/ is small."""

    def layer_ids(ref: str) -> list[str]:
        out = docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", ref).stdout
        return [str(layer) for layer in json.loads(out)]

    before = layer_ids(image)
    source = stack.root / "app/src/demo/api.py"
    kept = source.read_text()
    source.write_text(kept + "\n# edited\n")
    try:
        rebuilt = stack.run("inv", "docker-build", "--target", "production")
        assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
        after = layer_ids(image)
        assert after[:-1] == before[:-1]  # base, user, tini and the venv: untouched
        assert after[-1] != before[-1]
    finally:
        source.write_text(kept)
        assert stack.run("inv", "docker-build", "--target", "production").returncode == 0
