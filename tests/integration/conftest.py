"""Real-engine fixtures: a private copy of the reference stack, always torn down."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.realstack import Stack, copy_stack, docker, free_port, remove_everything


@pytest.fixture(scope="session", autouse=True)
def engine() -> None:
    """Fail (never skip) when there is no engine: these tests are the proof that shipyard works."""
    info = docker("info", "--format", "{{.ServerVersion}}", check=False)
    if info.returncode:
        pytest.fail(f"no Docker engine: {info.stderr.strip()} (run ../shared/engine/provision)")


@pytest.fixture(scope="session", autouse=True)
def private_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep what shipyard remembers per machine (volume fingerprints) inside the run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        yield


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Copy the reference stack under a unique name; remove all it created afterwards."""
    copy = copy_stack(tmp_path_factory.mktemp("stack"))
    try:
        yield copy
    finally:
        remove_everything(copy.name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder `engine`, so `pytest -m "not engine"` skips them on purpose."""
    here = __file__.rsplit("/", 1)[0]
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.engine)


REGISTRY_CONFIG = (
    "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\n"
    "http:\n  addr: 0.0.0.0:5000\n"
)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """Run a real registry:2 on a free local port, without auth; remove it afterwards."""
    config = tmp_path / "registry.yml"
    config.write_text(REGISTRY_CONFIG)
    port = free_port()
    cid = docker(
        "run",
        "--detach",
        "--label",
        "dev.shipyard.test=registry",
        "--publish",
        f"127.0.0.1:{port}:5000",
        "--volume",
        f"{config}:/etc/docker/registry/config.yml:ro",
        "registry:2",
    ).stdout.strip()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        docker("rm", "--force", "--volumes", cid, check=False)


@pytest.fixture
def committed(tmp_path: Path) -> Iterator[Stack]:
    """Copy the reference stack into a git repository of its own, with one commit."""
    stack = copy_stack(tmp_path)
    git = ["git", "-C", str(stack.root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one commit"], check=True)
    try:
        yield stack
    finally:
        remove_everything(stack.name)
