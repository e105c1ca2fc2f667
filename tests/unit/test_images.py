from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import load_stack
from shipyard.engine import Engine
from shipyard.images import build_command, image_tags

CLASSIC = Engine(buildx=False, compose=("docker", "compose"))
BUILDX = Engine(buildx=True, compose=("docker", "compose"))


@pytest.mark.usefixtures("project")
def test_build_with_in_client_buildkit() -> None:
    """Without buildx: `docker build` (BuildKit comes from DOCKER_BUILDKIT=1 in its env)."""
    argv = build_command(CLASSIC, load_stack(), "production", sha="1a2b3c4")
    assert argv == [
        "docker",
        "build",
        "--file",
        "docker/Dockerfile",
        "--target",
        "production",
        "--tag",
        "demo-app:production",
        "--tag",
        "demo-app:production-1a2b3c4",
        "--label",
        "org.opencontainers.image.title=demo-app",
        "--label",
        "dev.shipyard.target=production",
        "--label",
        "org.opencontainers.image.revision=1a2b3c4",
        ".",
    ]
    assert CLASSIC.build_env() == {"DOCKER_BUILDKIT": "1"}


@pytest.mark.usefixtures("project")
def test_build_with_buildx_secret_cache_and_no_cache() -> None:
    """With buildx: `--load` into the engine; CA bundle as a secret; cache sources; no cache."""
    argv = build_command(
        BUILDX,
        load_stack(),
        "test",
        ca_bundle=Path("/etc/ssl/ca.pem"),
        cache_from=["registry.local/demo:cache"],
        no_cache=True,
    )
    assert argv == [
        "docker",
        "buildx",
        "build",
        "--load",
        "--file",
        "docker/Dockerfile",
        "--target",
        "test",
        "--tag",
        "demo-app:test",
        "--label",
        "org.opencontainers.image.title=demo-app",
        "--label",
        "dev.shipyard.target=test",
        "--secret",
        "id=ca,src=/etc/ssl/ca.pem",
        "--cache-from",
        "registry.local/demo:cache",
        "--no-cache",
        ".",
    ]
    assert BUILDX.build_env() == {}


def test_build_context_from_config(project: Path) -> None:
    """[tool.shipyard] context moves the build context (here: app/)."""
    with (project / "pyproject.toml").open("a") as f:
        f.write('context = "app"\n')
    assert build_command(CLASSIC, load_stack(), "test")[-1] == "app"


@pytest.mark.usefixtures("project")
def test_tags() -> None:
    """<image>:<target>, plus <image>:<target>-<sha> in a git checkout."""
    stack = load_stack()
    assert image_tags(stack, "test") == ["demo-app:test"]
    assert image_tags(stack, "test", "abc1234") == ["demo-app:test", "demo-app:test-abc1234"]
