"""The stack file shipyard hands to Swarm, its deploy phases, and how it reads convergence."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from shipyard.core.errors import ConfigError
from shipyard.core.workspace import open_workspace
from shipyard.deploy import converge, stackfile, swarm, swarmsecrets
from shipyard.env.environment import Environment
from tests.unit.conftest import app_image
from tests.unit.fakes import FakeRunner

PASSWORD = "s3cret-Value-0123456789"
PIN = "reg:5000/team/demo@sha256:aaa"
SERVICES: dict[str, Any] = {
    "db": {
        "image": "postgres:17",
        "environment": {"POSTGRES_USER": "demo", "POSTGRES_PASSWORD": PASSWORD},
        "volumes": [{"type": "volume", "source": "db-data", "target": "/data", "volume": {}}],
        "healthcheck": {"test": ["CMD-SHELL", "pg_isready"], "interval": "5s"},
        "restart": "unless-stopped",
        "security_opt": ["no-new-privileges:true"],
    },
    "migrate": {
        "image": "demo:production",
        "build": {"context": "/app"},
        "command": ["python", "-m", "demo.migrate"],
        "environment": {"DATABASE_URL": f"postgresql://demo:{PASSWORD}@db/demo"},
        "depends_on": {"db": {"condition": "service_healthy"}},
        "restart": "no",
    },
    "api": {
        "image": "demo:production",
        "build": {"context": "/app"},
        "environment": {"POSTGRES_PASSWORD": PASSWORD, "POSTGRES_HOST": "db"},
        "depends_on": {
            "db": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        },
        "ports": [{"mode": "ingress", "target": 8000, "published": "8000", "protocol": "tcp"}],
        "tmpfs": ["/tmp"],
        "read_only": True,
        "deploy": {"replicas": 2, "resources": {"limits": {"cpus": 1, "memory": "536870912"}}},
    },
    "tests": {"image": "demo:test", "profiles": ["test"]},
}


def environment() -> Environment:
    return Environment(
        name="prod",
        project="demo-prod",
        files=(),
        env_files=(),
        services=SERVICES,
        networks=("default",),
        volumes=("db-data",),
        top_level={
            "networks": {"default": {"name": "demo-prod_default", "ipam": {}}},
            "volumes": {"db-data": {"name": "demo-prod_db-data"}},
        },
    )


def secrets() -> dict[tuple[str, str], swarmsecrets.Secret]:
    return swarmsecrets.secrets_for("demo-swarm", SERVICES, [PASSWORD, "demo"])


def test_secret_values_move_whole_variables_and_short_ones_only_when_equal() -> None:
    """A variable holding or embedding a secret moves; 'demo' (4 chars) is not found inside URLs."""
    found = secrets()
    assert sorted(found) == [
        ("api", "POSTGRES_PASSWORD"),
        ("db", "POSTGRES_PASSWORD"),
        ("db", "POSTGRES_USER"),
        ("migrate", "DATABASE_URL"),
    ]
    assert found["api", "POSTGRES_PASSWORD"] == found["db", "POSTGRES_PASSWORD"]  # one secret
    url = found["migrate", "DATABASE_URL"]
    assert url.value == f"postgresql://demo:{PASSWORD}@db/demo"
    assert url.name == f"demo-swarm_{url.key}"
    assert url.key.startswith("database_url_")
    assert (
        url.key
        != swarmsecrets.secrets_for(
            "demo-swarm",
            {
                "migrate": {
                    "environment": {
                        "DATABASE_URL": "postgresql://demo:another-password-1234@db/demo"
                    }
                }
            },
            ["another-password-1234"],
        )["migrate", "DATABASE_URL"].key
    )  # a new value is a new secret


def test_the_stack_file_is_the_model_made_for_swarm() -> None:
    """Pinned images, secrets as files, start-first unless data or jobs, no Compose-only keys."""
    made = stackfile.stack_file(
        environment(), {"demo:production": PIN}, secrets(), only=["api", "db", "migrate"]
    )
    services = made.document["services"]
    password_key = secrets()["api", "POSTGRES_PASSWORD"].key
    assert services["api"] == {
        "image": PIN,
        "read_only": True,
        "environment": {
            "POSTGRES_HOST": "db",
            "POSTGRES_PASSWORD_FILE": "/run/secrets/POSTGRES_PASSWORD",
        },
        "secrets": [{"source": password_key, "target": "POSTGRES_PASSWORD"}],
        "ports": [{"target": 8000, "protocol": "tcp", "mode": "ingress", "published": 8000}],
        "volumes": [{"type": "tmpfs", "target": "/tmp"}],
        "deploy": {
            "replicas": 2,
            "resources": {"limits": {"cpus": "1", "memory": "536870912"}},
            "update_config": {
                "parallelism": 1,
                "order": "start-first",
                "failure_action": "rollback",
            },
            "rollback_config": {"parallelism": 1, "order": "start-first"},
        },
    }
    assert services["db"]["deploy"] == {
        "restart_policy": {"condition": "any"},
        "update_config": {"parallelism": 1, "order": "stop-first", "failure_action": "rollback"},
        "rollback_config": {"parallelism": 1, "order": "stop-first"},
    }  # two databases never share one data volume
    assert services["migrate"]["deploy"] == {
        "replicas": 1,
        "restart_policy": {"condition": "none"},
        "update_config": {"parallelism": 1, "order": "stop-first", "failure_action": "continue"},
    }
    assert made.document["networks"] == {"default": {"driver": "overlay"}}
    assert made.document["volumes"] == {"db-data": {}}  # Swarm prefixes the stack's name
    assert made.document["secrets"][password_key] == {
        "external": True,
        "name": f"demo-swarm_{password_key}",
    }
    assert made.ignored == {"security_opt": ["db"]}
    assert PASSWORD not in made.render()
    assert yaml.safe_load(made.render()) == made.document


def test_without_ipvs_services_resolve_by_dns_and_publish_on_the_node() -> None:
    """dnsrr: endpoint mode on every service; a node-published port means stop-first."""
    made = stackfile.stack_file(environment(), {}, {}, endpoint_mode="dnsrr", only=["api"])
    api = made.document["services"]["api"]
    assert api["ports"] == [{"target": 8000, "protocol": "tcp", "mode": "host", "published": 8000}]
    assert api["deploy"]["endpoint_mode"] == "dnsrr"
    assert api["deploy"]["update_config"]["order"] == "stop-first"


def test_profiled_services_are_not_deployed() -> None:
    assert stackfile.deployed_services(environment()) == ["api", "db", "migrate"]


def test_images_that_read_no_file_get_their_secrets_as_variables_at_start() -> None:
    """A shell exports each secret file, then execs the image's own entrypoint and command."""
    start = stackfile.Start(("docker-entrypoint.sh",), ("postgres",))
    made = stackfile.stack_file(environment(), {}, secrets(), only=["db"], starts={"db": start})
    db = made.document["services"]["db"]
    assert db["entrypoint"] == [
        "/bin/sh",
        "-c",
        'export POSTGRES_PASSWORD="$$(cat /run/secrets/POSTGRES_PASSWORD)"; '
        'export POSTGRES_USER="$$(cat /run/secrets/POSTGRES_USER)"; exec "$$@"',
        "shipyard-secrets",
        "docker-entrypoint.sh",
    ]
    assert db["command"] == ["postgres"]
    assert "environment" not in db  # no _FILE variables either


def test_jobs_needs_converge_first_then_the_jobs_then_everything() -> None:
    assert stackfile.phases(environment(), ["api", "db", "migrate"]) == [
        ["db"],
        ["db", "migrate"],
        ["api", "db", "migrate"],
    ]
    assert stackfile.phases(environment(), ["db"]) == [["db"]]


def task(state: str, spec: str = "v2", created: str = "2", error: str = "") -> converge.Task:
    return converge.Task(
        id=f"t{created}",
        service="s_api",
        state=state,
        desired="running",
        error=error,
        created=created,
        spec={"ContainerSpec": {"Image": spec}},
    )


def service(*tasks: converge.Task, update: str = "", replicas: int = 2) -> converge.Service:
    return converge.Service(
        name="s_api",
        replicas=replicas,
        spec={"ContainerSpec": {"Image": "v2", "StopGracePeriod": 10}},
        update=update,
        message="update rolled back" if update.startswith("rollback") else "",
        image="v2",
        tasks=tasks,
    )


@pytest.mark.parametrize(
    ("svc", "done", "progress"),
    [
        (service(task("running", "v1", "1"), task("starting")), False, "0/2 running"),
        (service(task("running", created="1"), task("running")), True, "2/2 running"),
        (
            service(task("running"), update="updating"),
            False,
            "1/2 running, updating",
        ),
    ],
)
def test_converged_means_every_replica_of_the_new_spec_running(
    svc: converge.Service, done: bool, progress: str
) -> None:
    """Tasks of an older spec do not count (the engine fills defaults into the service spec)."""
    verdict = converge.judge(svc, job=False)
    assert (verdict.done, verdict.progress, verdict.failed) == (done, progress, None)


def test_a_rolled_back_update_is_a_failure_naming_the_failed_task() -> None:
    failed = task("failed", created="3", error="task: non-zero exit (143): unhealthy container")
    verdict = converge.judge(
        service(task("running", "v1"), failed, update="rollback_completed"), job=False
    )
    assert (verdict.done, verdict.progress, verdict.failed) == (False, "rolled back", failed)
    assert verdict.reason == "update rolled back"
    assert converge.judge(
        service(task("running"), update="rollback_completed", replicas=1),
        job=False,
        rolling_back=True,
    ).done


def test_jobs_are_done_when_their_newest_task_completed() -> None:
    assert converge.judge(service(task("complete"), replicas=1), job=True).progress == "completed"
    failed = converge.judge(service(task("failed", error="task: non-zero exit (1)")), job=True)
    assert (failed.done, failed.reason) == (False, "task: non-zero exit (1)")
    assert converge.judge(service(task("complete", "v1")), job=True).progress == "waiting to start"


@pytest.mark.parametrize(
    ("info", "message"),
    [
        ("inactive false", "this Docker engine is not in swarm mode (swarm: inactive)"),
        ("active false", "this Docker engine is a swarm worker: stacks are deployed on a manager"),
    ],
)
def test_deploy_needs_a_swarm_manager(project: Path, info: str, message: str) -> None:
    runner = FakeRunner(
        lambda argv: (0, info) if "{{.Swarm.LocalNodeState}}" in " ".join(argv) else (0, "")
    )
    with pytest.raises(ConfigError) as raised:
        swarm.require_manager(open_workspace(runner))
    assert raised.value.message == message


def test_secret_values_go_through_a_private_file_never_argv(project: Path) -> None:
    """`docker secret create NAME FILE`, labelled with the stack; existing names are left alone."""
    seen: dict[str, str] = {}

    def script(argv: list[str]) -> tuple[int, str]:
        if argv[:3] == ["docker", "secret", "create"]:
            path = Path(argv[-1])
            seen[argv[-2]] = path.read_text()
            assert path.stat().st_mode & 0o777 == 0o600
        if argv[:3] == ["docker", "secret", "ls"]:
            return 0, "demo-swarm_already_there\n"
        return 0, ""

    runner = FakeRunner(script)
    made = secrets()
    existing = replace(next(iter(made.values())), name="demo-swarm_already_there")
    created = swarmsecrets.create_secrets(
        open_workspace(runner), "demo-swarm", [*made.values(), existing]
    )
    assert sorted(created) == sorted({s.name for s in made.values()})
    assert seen == {s.name: s.value for s in made.values()}
    assert not any(PASSWORD in " ".join(argv) for argv in runner.argvs)
    create = next(argv for argv in runner.argvs if argv[:3] == ["docker", "secret", "create"])
    assert create[3:5] == ["--label", "com.docker.stack.namespace=demo-swarm"]


def test_stack_name_is_not_the_compose_projects(project: Path) -> None:
    """The Compose prod stack's volumes are <project>-prod_*: the swarm stack's must differ."""
    ws = open_workspace(FakeRunner())
    assert swarm.stack_name(ws, "prod") == f"{ws.stack.project}-prod-swarm"
    assert swarm.stack_name(ws, "prod", "shop") == "shop"


def test_status_shows_short_digests() -> None:
    assert swarm.short_image(f"{PIN}bbbbbbbbbbbbbbbb") == "demo@sha256:aaabbbbbbbbb"
    assert swarm.short_image("redis:8") == "redis:8"


def test_a_secret_without_a_value_stops_the_deploy_before_the_swarm_changes(project: Path) -> None:
    """An @secret key left empty in env/.env.prod: one message naming it and the file."""
    (project / "env/.env.prod").write_text("# @secret\nPOSTGRES_PASSWORD=\n")

    def script(argv: list[str]) -> tuple[int, str]:
        if "{{.Swarm.LocalNodeState}}" in " ".join(argv):
            return 0, "active true"
        if "{{json .RepoDigests}}" in argv:
            return 0, '["reg:5000/team/demo@sha256:aaa"]'
        return 0, ""

    runner = FakeRunner(script)
    ws = open_workspace(runner)
    ws = replace(ws, stack=replace(ws.stack, registry="reg:5000/team"))
    env = replace(environment(), env_files=(project / "env/.env.prod",))
    with pytest.raises(ConfigError) as raised:
        swarm.deploy(ws, env, "demo-swarm", tag="prod")
    assert raised.value.message == "no value for POSTGRES_PASSWORD (@secret) in env/.env.prod"
    assert not [
        argv for argv in runner.argvs if argv[1:3] in (["secret", "create"], ["stack", "deploy"])
    ]


def test_deploy_runs_exactly_these_commands_and_waits_for_the_new_spec(
    project: Path, capsys: pytest.CaptureFixture[str], private_state: Path
) -> None:
    """Pin, check the data, create the secret, one stack deploy, poll, remember the data."""
    (project / "env/.env.prod").write_text(f"# @secret\nPOSTGRES_PASSWORD={PASSWORD}\n")
    pinned = "reg:5000/team/demo-app@sha256:aaa"
    task_spec = {"ContainerSpec": {"Image": pinned}}
    service_row = {
        "ID": "svc1",
        "Spec": {
            "Name": "demo-swarm_api",
            "Mode": {"Replicated": {"Replicas": 1}},
            "TaskTemplate": task_spec,
        },
    }
    task_row = {
        "ID": "task1",
        "ServiceID": "svc1",
        "DesiredState": "running",
        "Status": {"State": "running"},
        "CreatedAt": "1",
        "Spec": task_spec,
    }

    files: list[str] = []

    def script(argv: list[str]) -> tuple[int, str]:
        joined = " ".join(argv)
        if argv[1:3] == ["stack", "deploy"]:
            files.append(Path(argv[4]).read_text())
        answers = {
            "{{.Swarm.LocalNodeState}}": "active true",
            "{{json .RepoDigests}}": json.dumps([pinned]),
            "service ls --quiet": "svc1\n",
            "service inspect svc1": json.dumps([service_row]),
            "service ps --quiet": "task1\n",
            "docker inspect task1": json.dumps([task_row]),
        }
        return 0, next((out for key, out in answers.items() if key in joined), "")

    runner = FakeRunner(script)
    ws = open_workspace(runner)
    ws = replace(ws, stack=replace(ws.stack, registry="reg:5000/team"), say=print)
    api = {**SERVICES["api"], "image": "demo-app:production", "depends_on": {}, "ports": []}
    env = replace(
        environment(),
        services={"api": api},
        images=(app_image(project, "production", ("api",)),),
        env_files=(project / "env/.env.prod",),
    )
    swarm.deploy(ws, env, "demo-swarm", tag="prod", clock=StoppedClock())
    commands = [argv for argv in runner.argvs if argv[1] in {"pull", "secret", "stack", "volume"}]
    secret = secrets()["api", "POSTGRES_PASSWORD"].name
    volumes = ["docker", "volume", "ls", "--filter", "label=com.docker.stack.namespace=demo-swarm"]
    assert (
        [argv[:4] for argv in commands]
        == [
            ["docker", "pull", "--quiet", "reg:5000/team/demo-app:prod"],
            volumes[:4],  # the data's secrets checked before the swarm changes
            ["docker", "secret", "ls", "--format"],
            ["docker", "secret", "create", "--label"],
            ["docker", "stack", "deploy", "--compose-file"],
            volumes[:4],  # what the tasks created, remembered
        ]
    )
    assert commands[1][:5] == commands[5][:5] == volumes
    assert commands[3][5] == secret
    assert commands[4][5:] == ["--with-registry-auth", "--prune", "demo-swarm"]
    said = capsys.readouterr().out
    assert "secrets as files: api POSTGRES_PASSWORD_FILE (a service that reads only" in said
    assert "api: 1/1 running after 0.0s" in said
    assert PASSWORD not in files[0]
    assert yaml.safe_load(files[0])["services"]["api"]["image"] == pinned


class StoppedClock:
    """A clock that never moves: the first poll must already see convergence."""

    def __call__(self) -> float:
        return 0.0

    def sleep(self, seconds: float) -> None:
        raise AssertionError(seconds)
