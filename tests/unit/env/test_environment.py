"""The Environment value: read from Compose's merged model, images one per name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shipyard.core.engine import Engine
from shipyard.core.errors import ConfigError
from shipyard.core.workspace import Workspace, open_workspace
from shipyard.env.envcheck import EnvCheckFailed
from shipyard.env.environment import Image, images_of, project_name, resolve, scale_args
from tests.unit.conftest import environment
from tests.unit.fakes import FakeRunner

ENGINE = Engine(buildx=False, compose=("docker", "compose"))


def built(root: Path, target: str, **extra: Any) -> dict[str, Any]:
    return {
        "image": f"demo-app:{target}",
        "build": {"context": str(root), "dockerfile": "docker/Dockerfile", "target": target}
        | extra,
    }


def test_services_that_share_an_image_are_one_build(project: Path) -> None:
    """API, worker and migrate run one image: one Image naming all three."""
    model = {
        "services": {
            "api": built(project, "production"),
            "worker": built(project, "production"),
            "db": {"image": "postgres:17"},
            "tests": built(project, "test"),
        }
    }
    assert images_of(model) == (
        Image(
            "demo-app:production",
            project,
            project / "docker/Dockerfile",
            "production",
            services=("api", "worker"),
        ),
        Image("demo-app:test", project, project / "docker/Dockerfile", "test", services=("tests",)),
    )


def test_build_args_and_composes_build_secrets_are_kept(project: Path) -> None:
    """build.args, and build.secrets declared as files or environment variables."""
    spec = built(project, "test", args={"A": "1", "UNSET": None}, secrets=["npmrc", "token"])
    model = {
        "services": {"tests": spec},
        "secrets": {"npmrc": {"file": "/home/u/.npmrc"}, "token": {"environment": "GH_TOKEN"}},
    }
    (image,) = images_of(model)
    assert image.args == {"A": "1"}
    assert image.secrets == ("id=npmrc,src=/home/u/.npmrc", "id=token,env=GH_TOKEN")


@pytest.mark.parametrize(
    ("services", "message"),
    [
        pytest.param(
            {"api": {"build": {"context": "{root}", "dockerfile": "docker/Dockerfile"}}},
            "service 'api' has a build: section but no image: name",
            id="no-image-name",
        ),
        pytest.param(
            {"api": "production", "worker": "development"},
            "services 'api' and 'worker' both run demo-app:x but build it differently",
            id="one-name-two-builds",
        ),
        pytest.param(
            {"api": "prod"},
            "service 'api' builds target 'prod', but docker/Dockerfile has no such stage "
            "(stages: base, builder, development, test, production)",
            id="unknown-stage",
        ),
        pytest.param(
            {
                "api": {
                    "image": "a",
                    "build": {"context": "{root}", "dockerfile": "nope/Dockerfile"},
                }
            },
            "service 'api' builds from nope/Dockerfile, which does not exist",
            id="missing-dockerfile",
        ),
    ],
)
def test_models_shipyard_cannot_build_are_named(
    project: Path, services: dict[str, Any], message: str
) -> None:
    """Each mistake is one ConfigError naming the service and what to change."""
    model: dict[str, Any] = {"services": {}}
    for name, spec in services.items():
        if isinstance(spec, str):
            model["services"][name] = built(project, spec) | {"image": "demo-app:x"}
        else:
            text = json.dumps(spec).replace("{root}", str(project))
            model["services"][name] = json.loads(text)
    with pytest.raises(ConfigError) as caught:
        images_of(model)
    assert caught.value.message == message
    assert caught.value.tip


def _workspace(model: dict[str, Any], calls: list[list[str]] | None = None) -> Workspace:
    def script(argv: list[str]) -> tuple[int, str]:
        return (0, json.dumps(model)) if "config" in argv else (0, "")

    runner = FakeRunner(script)
    return open_workspace(runner)


def test_resolve_reads_composes_model_once_with_every_profile(project: Path) -> None:
    """One `config` query over the files, env file and '*' profile; the value carries it all."""
    model = {
        "services": {"api": built(project, "development"), "etl": {"profiles": ["etl"]}},
        "networks": {"default": {}},
        "volumes": {"db-data": {}},
    }
    ws = _workspace(model)
    (project / "env/.env.dev").write_text("POSTGRES_USER=demo\n")
    env = resolve(ws, "dev", profiles=["etl"])
    runner = ws.runner
    assert isinstance(runner, FakeRunner)
    assert runner.argvs == [
        [
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
            "--profile",
            "*",
            "config",
            "--format",
            "json",
        ]
    ]
    assert (env.name, env.project, env.profiles) == ("dev", "demo-app-dev", ("etl",))
    assert env.env_files == (project / "env/.env.dev",)
    assert [image.ref for image in env.images] == ["demo-app:development"]
    assert (env.networks, env.volumes) == (("default",), ("db-data",))


def test_resolve_refuses_an_unknown_profile(project: Path) -> None:
    """A profile no service has is named, with the profiles there are."""
    ws = _workspace({"services": {"etl": {"profiles": ["etl"]}}})
    with pytest.raises(ConfigError, match="the dev stack has no profile 'elt'") as caught:
        resolve(ws, "dev", profiles=["elt"])
    assert caught.value.tip == (
        "use one of them, e.g. 'inv up --env dev --profile etl' (profiles there: etl)"
    )


def test_a_compose_file_compose_rejects_is_a_config_error(project: Path) -> None:
    """Compose's own message (a missing :? variable, a bad key) comes through, once."""

    def script(argv: list[str]) -> tuple[int, str, str]:
        return (1, "", "required variable POSTGRES_PASSWORD is missing a value: set it\n")

    ws = open_workspace(FakeRunner(script))
    with pytest.raises(ConfigError, match="Compose cannot read the dev stack's files") as caught:
        resolve(ws, "dev")
    assert caught.value.details == "required variable POSTGRES_PASSWORD is missing a value: set it"


def test_up_uses_the_chosen_profiles_and_every_other_command_sees_all(project: Path) -> None:
    """`up` starts what the user chose; ps/logs/down cover every profile's containers."""
    env = environment(project, "dev", {"api": {}}, profiles=("etl",))
    assert env.compose(ENGINE, "up", "--detach")[-4:] == ["--profile", "etl", "up", "--detach"]
    assert env.compose(ENGINE, "down")[-3:] == ["--profile", "*", "down"]
    extra = project / "labels.yml"
    argv = env.compose(ENGINE, "ps", project="demo-app-dev-r1", extra_files=[extra])
    assert argv[2:4] == ["--project-name", "demo-app-dev-r1"]
    assert argv[8:10] == ["--file", "labels.yml"]


def test_scale_arguments(project: Path) -> None:
    """SERVICE=N values become --scale arguments."""
    env = environment(project, "prod", {"api": {}, "worker": {}})
    assert scale_args(env, ["worker=3", "api=0"]) == ["--scale", "worker=3", "--scale", "api=0"]


def test_a_service_holding_a_host_port_cannot_get_replicas(project: Path) -> None:
    """Three replicas of a service on host port 8080: one message, not 'port already taken'."""
    fixed = {"ports": [{"target": 8000, "published": "8080", "protocol": "tcp"}]}
    ranged = {"ports": [{"target": 8000, "published": "8001-8003"}]}
    env = environment(project, "prod", {"api": fixed, "web": ranged, "worker": {}})
    assert scale_args(env, ["api=1", "web=3", "worker=5"])[1::2] == ["api=1", "web=3", "worker=5"]
    for item, fits in (("api=2", "8080 fits 1 replica"), ("web=4", "8001-8003 fits 3 replicas")):
        with pytest.raises(ConfigError) as caught:
            scale_args(env, [item])
        service, count = item.split("=")
        assert caught.value.message == f"cannot scale {service} to {count}: its host port {fits}"
        assert "publish no host port" in str(caught.value.tip)


@pytest.mark.usefixtures("project")
def test_project_names_never_collide_across_environments() -> None:
    """Dev and test stacks (and each test run) have different project names."""
    ws = _workspace({})
    assert project_name(ws.stack, "dev") == "demo-app-dev"
    assert project_name(ws.stack, "test", "ab12cd34") == "demo-app-test-ab12cd34"


def test_a_stale_env_file_is_named_by_env_check_before_composes_errors(project: Path) -> None:
    """An env file made before the contract grew: the keys it lacks, not Compose's interpolation."""
    (project / "env/.env.example").write_text("POSTGRES_USER=demo\nPOSTGRES_PASSWORD=\nNEW_KEY=1\n")
    (project / "env/.env.dev").write_text("POSTGRES_USER=demo\nPOSTGRES_PASSWORD=x\n")

    def script(argv: list[str]) -> tuple[int, str, str]:
        return (1, "", "required variable NEW_KEY is missing a value: set NEW_KEY\n" * 10)

    with pytest.raises(EnvCheckFailed) as caught:
        resolve(open_workspace(FakeRunner(script)), "dev")
    assert caught.value.render() == (
        "ERROR: 1 problem(s) in the dev env files\n"
        "    env/.env.dev: NEW_KEY is missing (the contract has it at line 3): add it\n"
        "TIP: fix each line above, then run 'inv env-check --env dev'"
    )


def test_up_builds_only_the_images_of_the_services_it_starts(project: Path) -> None:
    """The tests service (profile tests) is docker-test's: `up` neither builds nor needs it."""
    app = Image("demo:production", project, project / "Dockerfile", "production", services=("app",))
    tests = Image("demo:test", project, project / "Dockerfile", "test", services=("tests",))
    runner = Image("demo:runner", project, project / "Dockerfile", "runner", services=("runner",))
    services = {"app": {}, "tests": {"profiles": ["tests"]}, "runner": {"profiles": ["etl"]}}
    env = environment(project, "dev", services, images=(app, tests, runner))
    assert env.started_images == (app,)
    with_etl = environment(project, "dev", services, images=(app, tests, runner), profiles=("etl",))
    assert with_etl.started_images == (app, runner)
