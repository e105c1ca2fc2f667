from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core.engine import Engine
from shipyard.core.errors import ConfigError
from shipyard.env.environment import Image
from shipyard.stack.images import (
    BuildOptions,
    CachePlan,
    bake_command,
    bake_definition,
    build_command,
    build_waves,
    cache_image,
    cache_plan,
    context_sources,
    preflight,
)

CLASSIC = Engine(buildx=False, compose=("docker", "compose"))
BUILDX = Engine(buildx=True, compose=("docker", "compose"), driver="docker")
CONTAINER = Engine(buildx=True, compose=("docker", "compose"), driver="docker-container")


@pytest.fixture
def image(project: Path) -> Image:
    return Image(
        ref="demo-app:production",
        context=project / "app",
        dockerfile=project / "docker/Dockerfile",
        target="production",
        services=("api", "worker"),
    )


def test_classic_build_command(image: Image) -> None:
    """`docker build` with the Dockerfile, target, both tags, labels and the context."""
    argv = build_command(image, BuildOptions(project="demo-app", sha="1a2b3c4"))
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
        "app",
    ]
    assert CLASSIC.build_env() == {"DOCKER_BUILDKIT": "1"}
    assert BUILDX.build_env() == {}


def test_classic_build_with_secrets_args_cache_and_no_cache(image: Image) -> None:
    """CA bundle, settings' and Compose's secrets, build args, cache source, --no-cache."""
    image = Image(
        image.ref,
        image.context,
        image.dockerfile,
        None,
        {"PYTHON_IMAGE": "python:3.12-slim"},
        ("id=npmrc,src=/home/u/.npmrc",),
    )
    options = BuildOptions(
        project="demo-app",
        no_cache=True,
        ca_bundle=Path("/etc/ssl/ca.pem"),
        secrets=("id=uv_index_password,env=UV_PASSWORD",),
    )
    argv = build_command(image, options, CachePlan(("reg/c:demo-app-production",)))
    assert argv == [
        "docker",
        "build",
        "--file",
        "docker/Dockerfile",
        "--tag",
        "demo-app:production",
        "--label",
        "org.opencontainers.image.title=demo-app",
        "--secret",
        "id=ca,src=/etc/ssl/ca.pem",
        "--secret",
        "id=uv_index_password,env=UV_PASSWORD",
        "--secret",
        "id=npmrc,src=/home/u/.npmrc",
        "--build-arg",
        "PYTHON_IMAGE=python:3.12-slim",
        "--cache-from",
        "reg/c:demo-app-production",
        "--no-cache",
        "app",
    ]


@pytest.mark.parametrize(
    ("ref", "repository", "tag", "tags"),
    [
        ("demo:test", "demo", "test", ["demo:test", "demo:test-abc1234"]),
        ("demo", "demo", "latest", ["demo", "demo:latest-abc1234"]),
        (
            "reg:5000/team/demo:dev",
            "reg:5000/team/demo",
            "dev",
            ["reg:5000/team/demo:dev", "reg:5000/team/demo:dev-abc1234"],
        ),
        (
            "reg:5000/demo",
            "reg:5000/demo",
            "latest",
            ["reg:5000/demo", "reg:5000/demo:latest-abc1234"],
        ),
    ],
)
def test_image_names_and_tags(ref: str, repository: str, tag: str, tags: list[str]) -> None:
    """The name Compose runs, plus <name>:<tag>-<sha>; a registry's port is not a tag."""
    image = Image(ref, Path("/c"), Path("/c/Dockerfile"))
    assert (image.repository, image.tag, image.tags("abc1234")) == (repository, tag, tags)
    assert image.tags() == [ref]


@pytest.mark.parametrize(
    ("engine", "ref", "push", "plan"),
    [
        pytest.param(CLASSIC, None, True, CachePlan(), id="no-cache-ref"),
        pytest.param(
            CLASSIC, "reg:5000/c", False, CachePlan(("reg:5000/c:demo-test",)), id="classic-pull"
        ),
        pytest.param(
            CLASSIC,
            "reg:5000/c",
            True,
            CachePlan(
                ("reg:5000/c:demo-test",),
                (),
                {"BUILDKIT_INLINE_CACHE": "1"},
                push="reg:5000/c:demo-test",
            ),
            id="classic-inline-push",
        ),
        pytest.param(
            BUILDX,
            "reg:5000/c",
            False,
            CachePlan(("type=registry,ref=reg:5000/c:demo-test",)),
            id="docker-driver-pull",
        ),
        pytest.param(
            BUILDX,
            "reg:5000/c",
            True,
            CachePlan(
                ("type=registry,ref=reg:5000/c:demo-test",),
                ("type=inline",),
                push="reg:5000/c:demo-test",
            ),
            id="docker-driver-inline-push",
        ),
        pytest.param(
            CONTAINER,
            "reg:5000/c",
            True,
            CachePlan(
                ("type=registry,ref=reg:5000/c:demo-test",),
                ("type=registry,ref=reg:5000/c:demo-test,mode=max",),
            ),
            id="container-driver-registry",
        ),
        pytest.param(
            CONTAINER,
            "type=gha",
            True,
            CachePlan(
                ("type=gha,scope=team-demo-test",), ("type=gha,scope=team-demo-test,mode=max",)
            ),
            id="container-driver-gha",
        ),
        pytest.param(
            CONTAINER,
            "type=gha",
            False,
            CachePlan(("type=gha,scope=team-demo-test",)),
            id="gha-pull",
        ),
        pytest.param(
            CONTAINER,
            "type=gha,scope=mine",
            True,
            CachePlan(("type=gha,scope=mine",), ("type=gha,scope=mine,mode=max",)),
            id="gha-own-scope",
        ),
    ],
)
def test_cache_plans(engine: Engine, ref: str | None, push: bool, plan: CachePlan) -> None:
    """Registry export where the driver can, inline cache in a pushed image where it cannot."""
    image = Image("team/demo:test", Path("/c"), Path("/c/Dockerfile"), "test")
    assert cache_plan(engine, ref, image, push=push) == plan


@pytest.mark.parametrize("engine", [CLASSIC, BUILDX], ids=["classic", "docker-driver"])
def test_exporter_specs_need_an_exporting_driver(engine: Engine) -> None:
    """type=gha where no cache can be exported is a clear error with the fix."""
    image = Image("demo:test", Path("/c"), Path("/c/Dockerfile"))
    with pytest.raises(ConfigError, match="docker-container driver") as caught:
        cache_plan(engine, "type=gha", image, push=True)
    assert caught.value.tip is not None
    assert "docker buildx create --use --driver docker-container" in caught.value.tip


def test_cache_image_is_one_tag_per_image() -> None:
    """Every image of a stack has its own cache tag under the one cache-ref."""
    api = Image("reg:5000/team/api:development", Path("/c"), Path("/c/D"))
    assert cache_image("reg:5000/cache", api) == "reg:5000/cache:api-development"


def test_bake_definition(image: Image, project: Path) -> None:
    """One bake target per image: context, Dockerfile, target, tags, labels, secrets, cache."""
    test = Image(
        "demo-app:test",
        project / "app",
        project / "docker/Dockerfile",
        "test",
        {"EXTRA": "1"},
        services=("tests",),
    )
    options = BuildOptions(
        project="demo-app", sha="abc1234", no_cache=True, ca_bundle=Path("/etc/ca.pem")
    )
    plans = {test.ref: CachePlan(("type=registry,ref=r/c:demo-app-test",), ("type=inline",))}
    definition = bake_definition([image, test], options, plans)
    assert definition == {
        "group": {"default": {"targets": ["demo-app_production", "demo-app_test"]}},
        "target": {
            "demo-app_production": {
                "context": str(project / "app"),
                "dockerfile": str(project / "docker/Dockerfile"),
                "target": "production",
                "tags": ["demo-app:production", "demo-app:production-abc1234"],
                "labels": {
                    "org.opencontainers.image.title": "demo-app",
                    "dev.shipyard.target": "production",
                    "org.opencontainers.image.revision": "abc1234",
                },
                "secret": ["id=ca,src=/etc/ca.pem"],
                "no-cache": True,
            },
            "demo-app_test": {
                "context": str(project / "app"),
                "dockerfile": str(project / "docker/Dockerfile"),
                "target": "test",
                "tags": ["demo-app:test", "demo-app:test-abc1234"],
                "labels": {
                    "org.opencontainers.image.title": "demo-app",
                    "dev.shipyard.target": "test",
                    "org.opencontainers.image.revision": "abc1234",
                },
                "args": {"EXTRA": "1"},
                "secret": ["id=ca,src=/etc/ca.pem"],
                "cache-from": ["type=registry,ref=r/c:demo-app-test"],
                "cache-to": ["type=inline"],
                "no-cache": True,
            },
        },
    }
    assert bake_command(Path("/tmp/b/docker-bake.json")) == [
        "docker",
        "buildx",
        "bake",
        "--file",
        "/tmp/b/docker-bake.json",
        "--load",
    ]


def _image(root: Path, name: str, base: str) -> Image:
    dockerfile = root / f"{name}.Dockerfile"
    dockerfile.write_text(f"FROM {base} AS build\nFROM build AS final\n")
    return Image(f"{name}:1", root, dockerfile, "final")


def test_build_waves_follow_from_lines(tmp_path: Path) -> None:
    """An image built FROM another image of the stack comes in a later wave."""
    base = _image(tmp_path, "base", "python:3.13-slim")
    api = _image(tmp_path, "api", "base:1")
    web = _image(tmp_path, "web", "python:3.13-slim")
    assert build_waves([api, base, web]) == [[base, web], [api]]


def test_build_waves_refuse_a_cycle(tmp_path: Path) -> None:
    """Two images each built FROM the other cannot be ordered: a clear error."""
    a, b = _image(tmp_path, "a", "b:1"), _image(tmp_path, "b", "a:1")
    with pytest.raises(ConfigError, match="a:1, b:1 are each built FROM another"):
        build_waves([a, b])


def test_context_sources_are_the_plain_files_a_build_needs() -> None:
    """COPY/ADD and bind-mount sources; not other stages, globs, variables or the whole context."""
    dockerfile = (
        "FROM python AS base\n"
        "# COPY commented.txt ./\n"
        "RUN --mount=type=cache,target=/root/.cache \\\n"
        "    --mount=type=bind,source=uv.lock,target=uv.lock \\\n"
        "    --mount=type=bind,from=builder,source=/app/x,target=/x \\\n"
        "    uv sync\n"
        "COPY pyproject.toml poetry.loc[k] ./\n"
        "COPY --chown=1000:1000 src/ ./src/\n"
        "COPY --from=builder /opt/venv /opt/venv\n"
        'COPY ["a b.txt", "/x"]\n'
        "COPY . .\n"
        "ADD $URL /tmp/\n"
    )
    assert context_sources(dockerfile) == ["uv.lock", "pyproject.toml", "src"]


def test_preflight_names_a_missing_dockerfile_or_lock(tmp_path: Path) -> None:
    """A missing Dockerfile or lock is one problem with its fix, before any build."""
    image = Image("demo:test", tmp_path, tmp_path / "docker/Dockerfile", "test")
    [(problem, fix)] = preflight(image)
    assert problem == f"{tmp_path}/docker/Dockerfile does not exist"
    assert "'shipyard init' generates one" in fix
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker/Dockerfile").write_text(
        "FROM python\nRUN --mount=type=bind,source=uv.lock,target=uv.lock uv sync\n"
    )
    assert preflight(image) == [
        (
            f"{tmp_path}/docker/Dockerfile needs uv.lock, not in {tmp_path}/",
            "run 'uv lock' and commit uv.lock",
        )
    ]
    (tmp_path / "uv.lock").write_text("")
    assert preflight(image) == []


def test_a_bake_secret_file_is_named_by_its_absolute_path(
    image: Image, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bake runs from its definition's folder: a relative secret file would not be found."""
    monkeypatch.chdir(tmp_path)
    options = BuildOptions(project="demo-app", ca_bundle=Path("certs/ca.pem"))
    target = bake_definition([image], options, {})["target"]["demo-app_production"]
    assert target["secret"] == [f"id=ca,src={tmp_path / 'certs/ca.pem'}"]
