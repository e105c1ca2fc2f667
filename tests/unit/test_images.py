from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import load_stack
from shipyard.engine import Engine
from shipyard.errors import ConfigError
from shipyard.images import CachePlan, build_command, cache_plan, image_tags

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
        cache=CachePlan(("type=registry,ref=registry.local/demo:test",)),
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
        "type=registry,ref=registry.local/demo:test",
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


@pytest.mark.parametrize(
    ("engine", "ref", "push", "plan"),
    [
        pytest.param(CLASSIC, None, True, CachePlan(), id="no-cache-ref"),
        pytest.param(
            CLASSIC,
            "reg:5000/demo-cache",
            False,
            CachePlan(("reg:5000/demo-cache:test",)),
            id="inline-pull",
        ),
        pytest.param(
            CLASSIC,
            "reg:5000/demo-cache",
            True,
            CachePlan(
                ("reg:5000/demo-cache:test",),
                (),
                {"BUILDKIT_INLINE_CACHE": "1"},
                push="reg:5000/demo-cache:test",
            ),
            id="inline-push",
        ),
        pytest.param(
            BUILDX,
            "reg:5000/demo-cache",
            True,
            CachePlan(
                ("type=registry,ref=reg:5000/demo-cache:test",),
                ("type=registry,ref=reg:5000/demo-cache:test,mode=max",),
            ),
            id="buildx-registry",
        ),
        pytest.param(
            BUILDX,
            "type=gha",
            True,
            CachePlan(("type=gha",), ("type=gha,mode=max",)),
            id="buildx-gha",
        ),
        pytest.param(BUILDX, "type=gha", False, CachePlan(("type=gha",)), id="buildx-gha-pull"),
    ],
)
def test_cache_plans(engine: Engine, ref: str | None, push: bool, plan: CachePlan) -> None:
    """One setting, the right flags for buildx and for the classic builder's inline cache."""
    assert cache_plan(engine, ref, "test", push=push) == plan


def test_exporter_specs_need_buildx() -> None:
    """type=gha without buildx is a clear error."""
    with pytest.raises(ConfigError, match="has no buildx"):
        cache_plan(CLASSIC, "type=gha", "test", push=True)


@pytest.mark.usefixtures("project")
def test_inline_cache_flags_in_the_command() -> None:
    """The classic builder pushes inline cache metadata and reads it back."""
    plan = cache_plan(CLASSIC, "reg:5000/c", "test", push=True)
    argv = build_command(CLASSIC, load_stack(), "test", cache=plan)
    assert argv[-5:] == [
        "--build-arg",
        "BUILDKIT_INLINE_CACHE=1",
        "--cache-from",
        "reg:5000/c:test",
        ".",
    ]
