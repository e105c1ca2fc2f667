"""Building a stack's images: one bake per wave with buildx, one docker build each without."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from shipyard.core.config import load_stack
from shipyard.core.engine import Engine
from shipyard.core.errors import BuildFailed, CommandFailed, ConfigError
from shipyard.core.workspace import Workspace
from shipyard.env.environment import Image
from shipyard.stack import checkouts
from shipyard.stack.builds import build_images, select
from tests.unit.conftest import app_image
from tests.unit.fakes import FakeRunner

BUILDX = Engine(buildx=True, compose=("docker", "compose"), driver="docker")
CLASSIC = Engine(buildx=False, compose=("docker", "compose"))


def images(root: Path) -> list[Image]:
    """Team 000's shape: three role images from one Dockerfile, and one built FROM another."""
    dockerfile = root / "docker/Dockerfile"
    dockerfile.write_text(
        "FROM python:3.13-slim AS base\nFROM base AS api\nFROM base AS web\nFROM base AS code\n"
    )
    (root / "docker/Extra.Dockerfile").write_text("FROM demo-app-code:dev AS extra\n")
    return [
        Image("demo-app-api:dev", root, dockerfile, "api", services=("api",)),
        Image("demo-app-extra:dev", root, root / "docker/Extra.Dockerfile", "extra"),
        Image("demo-app-web:dev", root, dockerfile, "web", services=("web", "daemon")),
        Image("demo-app-code:dev", root, dockerfile, "code", services=("code",)),
    ]


def workspace(engine: Engine, runner: FakeRunner, said: list[str]) -> Workspace:
    return Workspace(runner, engine, load_stack(), said.append)


def baking() -> tuple[list[dict[str, Any]], FakeRunner]:
    """Return a runner that keeps each bake's definition, and the list it keeps them in."""
    definitions: list[dict[str, Any]] = []

    def script(argv: list[str]) -> tuple[int, str]:
        if argv[:3] == ["docker", "buildx", "bake"]:
            definitions.append(json.loads(Path(argv[4]).read_text()))
        return 0, ""

    return definitions, FakeRunner(script)


def test_buildx_bakes_each_wave_in_one_command(project: Path) -> None:
    """Wave 1: the three role images in one bake; wave 2: the image built FROM one of them."""
    definitions, runner = baking()
    said: list[str] = []
    tags = build_images(workspace(BUILDX, runner, said), images(project))
    bakes = [argv for argv in runner.argvs if argv[:3] == ["docker", "buildx", "bake"]]
    assert [argv[3::2] for argv in bakes] == [["--file", "--load"], ["--file", "--load"]]
    assert [d["group"]["default"]["targets"] for d in definitions] == [
        ["demo-app-api_dev", "demo-app-web_dev", "demo-app-code_dev"],
        ["demo-app-extra_dev"],
    ]
    assert definitions[0]["target"]["demo-app-web_dev"]["target"] == "web"
    assert not any(Path(argv[4]).exists() for argv in bakes)  # definition files removed
    # Each bake runs in its definition's folder: bake reads a .env where it runs (a
    # project's .env/ folder failed every build).
    cwds = [c.options["cwd"] for c in runner.calls if c.argv[:3] == ["docker", "buildx", "bake"]]
    assert cwds == [Path(argv[4]).parent for argv in bakes]
    assert tags == [
        "demo-app-api:dev",
        "demo-app-extra:dev",
        "demo-app-web:dev",
        "demo-app-code:dev",
    ]
    assert said == []


def test_classic_builds_one_image_at_a_time_in_dependency_order(project: Path) -> None:
    """Without buildx: one `docker build` per image, the FROM dependency after its base."""
    runner = FakeRunner()
    build_images(workspace(CLASSIC, runner, []), images(project))
    built = [
        argv[argv.index("--target") + 1] for argv in runner.argvs if argv[:2] == ["docker", "build"]
    ]
    assert built == ["api", "web", "code", "extra"]
    ws = workspace(CLASSIC, runner, [])  # the build recorded its checkout's folder, for gc
    assert json.loads(checkouts.record_file().read_text()) == {
        ws.stack.checkout: str(ws.stack.root.resolve())
    }
    assert all(
        call.options["env"] == {"DOCKER_BUILDKIT": "1"}
        for call in runner.calls
        if call.argv[:2] == ["docker", "build"]
    )


def test_docker_driver_shares_inline_cache_and_says_so_once(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Buildx's docker driver cannot export a cache: inline cache, pushed per image, one notice."""
    monkeypatch.setenv("SHIPYARD_CACHE_REF", "reg:5000/cache")
    monkeypatch.setenv("SHIPYARD_CACHE_PUSH", "1")
    runner = FakeRunner()
    said: list[str] = []
    build_images(workspace(BUILDX, runner, said), images(project)[:1])
    assert said == [
        "buildx's 'docker' driver cannot export a build cache: sharing layers as inline "
        "cache in the pushed images under reg:5000/cache instead"
    ]
    assert runner.argvs[-2:] == [
        ["docker", "tag", "demo-app-api:dev", "reg:5000/cache:demo-app-api-dev"],
        ["docker", "push", "reg:5000/cache:demo-app-api-dev"],
    ]


def test_a_missing_ca_bundle_is_named_before_any_build(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SSL_CERT_FILE pointing nowhere stops the build with the variable it came from."""
    monkeypatch.setenv("SSL_CERT_FILE", str(project / "missing.pem"))
    runner = FakeRunner()
    with pytest.raises(ConfigError, match=r"missing.pem \(from SSL_CERT_FILE\) does not exist"):
        build_images(workspace(CLASSIC, runner, []), images(project))
    assert runner.argvs == []


def test_select_by_service_and_target(project: Path) -> None:
    """--service picks the image a service runs; --target the images of one stage."""
    found = images(project)
    assert [i.ref for i in select(found, service="daemon")] == ["demo-app-web:dev"]
    assert [i.ref for i in select(found, target="code")] == ["demo-app-code:dev"]
    with pytest.raises(ConfigError, match="no image to build for service 'api' and target 'web'"):
        select(found, service="api", target="web")


def test_a_service_or_target_typo_gets_a_did_you_mean(tmp_path: Path) -> None:
    """`--target prodution` names the target it probably meant."""
    images = [app_image(tmp_path, target="production", services=("api",))]
    with pytest.raises(ConfigError, match=r"target 'prodution' \(did you mean 'production'\?\)"):
        select(images, target="prodution")
    with pytest.raises(ConfigError, match=r"service 'apii' \(did you mean 'api'\?\)"):
        select(images, service="apii")


@pytest.mark.parametrize("engine", [BUILDX, CLASSIC], ids=["buildx", "classic"])
def test_a_failed_build_is_explained_from_its_log(project: Path, engine: Engine) -> None:
    """The build's stderr is kept (tee) and read: the failing step, not 'command failed'."""
    log = (
        "#7 [api 2/3] RUN uv sync --locked\n#7 0.3 error: boom\n"
        "#7 ERROR: executor failed running [/bin/sh -c uv sync --locked]: exit code: 2\n"
    )

    def script(argv: list[str]) -> tuple[int, str, str]:
        building = argv[:3] == ["docker", "buildx", "bake"] or argv[:2] == ["docker", "build"]
        return (1, "", log) if building else (0, "", "")

    runner = FakeRunner(script)
    chosen = images(project)[:1]
    with pytest.raises(BuildFailed) as raised:
        build_images(workspace(engine, runner, []), chosen)
    assert raised.value.message == (
        "building demo-app-api:dev failed at [api 2/3] RUN uv sync --locked (exit 2)"
    )
    assert raised.value.details == "error: boom\nthe whole build log: results/logs/build.log"
    assert (project / "results/logs/build.log").read_text() == log
    built = [c for c in runner.calls if "bake" in c.argv or c.argv[1] == "build"]
    assert [call.options["tee"] for call in built] == [True]


def test_a_failure_with_no_build_log_stays_as_it_was(project: Path) -> None:
    runner = FakeRunner(
        lambda argv: (1, "", "no space left on device") if "bake" in argv else (0, "", "")
    )
    with pytest.raises(CommandFailed):
        build_images(workspace(BUILDX, runner, []), images(project)[:1])


def test_a_build_removes_the_last_failed_builds_log(project: Path) -> None:
    stale = project / "results/logs/build.log"
    stale.parent.mkdir(parents=True)
    stale.write_text("#7 ERROR: old\n")
    build_images(workspace(BUILDX, FakeRunner(), []), images(project)[:1])
    assert not stale.exists()


def test_a_github_actions_cache_has_one_scope_per_image(project: Path) -> None:
    """cache-ref = "type=gha": each image of a bake reads and writes its own scope."""
    definitions, runner = baking()
    container = Engine(buildx=True, compose=("docker", "compose"), driver="docker-container")
    ws = workspace(container, runner, [])
    ws = replace(ws, stack=replace(ws.stack, cache_ref="type=gha", cache_push=True))
    build_images(ws, images(project))
    targets = {name: t for d in definitions for name, t in d["target"].items()}
    assert {name: t["cache-to"] for name, t in targets.items()} == {
        "demo-app-api_dev": ["type=gha,scope=demo-app-api-dev,mode=max"],
        "demo-app-web_dev": ["type=gha,scope=demo-app-web-dev,mode=max"],
        "demo-app-code_dev": ["type=gha,scope=demo-app-code-dev,mode=max"],
        "demo-app-extra_dev": ["type=gha,scope=demo-app-extra-dev,mode=max"],
    }
    assert all(
        t["cache-from"] == [t["cache-to"][0].removesuffix(",mode=max")] for t in targets.values()
    )
