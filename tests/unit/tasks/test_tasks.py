"""Every task against invoke's MockContext, asserting the exact commands it runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast
from unittest.mock import Mock

import pytest
from invoke.context import Context, MockContext
from invoke.exceptions import Exit
from invoke.runners import Result

from shipyard.core.config import load_stack
from shipyard.tasks import images, namespace, stack
from shipyard.tasks._edge import shipyard_task

GIT = "git -C . rev-parse --short HEAD"
VERSION = "docker version --format '{{.Server.Version}}'"  # the engine answers: asked once


def volumes(env: str) -> str:
    """Return the query listing the data volumes of an environment's stack."""
    return (
        f"docker volume ls --filter label=com.docker.compose.project=demo-app-{env} "
        "--format '{{.Name}}\t{{.Label \"com.docker.compose.volume\"}}'"
    )


VOLUMES = {env: volumes(env) for env in ("dev", "test", "ci", "prod")}
COMPOSE = "docker compose --project-name demo-app-{env} --file compose/docker-compose.yml --file compose/docker-compose.{env}.yml --env-file env/.env.{env}"
DEV = COMPOSE.format(env="dev")
TEST = COMPOSE.format(env="test")
ALL = " --profile '*'"  # every command but `up` sees every profile's services
DEV_Q = DEV + ALL
RUNNING = f"{DEV_Q} ps --status running --services"
TEST_Q = TEST + ALL
UP = "up --detach --remove-orphans --no-build"
BUILT = "docker image inspect --format '{{{{.Id}}}}' demo-app:{t}"  # --no-build: is it there?
TARGETS = {"dev": "development", "test": "test", "ci": "test", "prod": "production"}
LABELS = "--label org.opencontainers.image.title=demo-app --label dev.shipyard.target={t} --label org.opencontainers.image.revision=abc1234"
BUILD = (
    "DOCKER_BUILDKIT=1 docker build --file docker/Dockerfile --target {t} --tag demo-app:{t} --tag demo-app:{t}-abc1234 --tag demo-app:{t}-at-{co} "
    + LABELS
    + " ."
)


FRESHNESS = "docker image inspect --format '{{json .RepoTags}} {{json .RepoDigests}} {{.Id}}' "


def tags_of(*targets: str) -> list[str]:
    """Return every tag a build of ``targets`` gives, as freshness asks for them."""
    co = load_stack().checkout
    return sorted(
        tag
        for t in targets
        for tag in (f"demo-app:{t}", f"demo-app:{t}-abc1234", f"demo-app:{t}-at-{co}")
    )


def fresh_before(*targets: str) -> str:
    """Return the one query before a build: the tags' and the base image's IDs."""
    return FRESHNESS + " ".join(sorted([*tags_of(*targets), "python:3.13-slim"]))


def fresh_after(*targets: str) -> str:
    """Return the query after a build: the IDs its tags got, to skip the next one."""
    return FRESHNESS + " ".join(tags_of(*targets))


def classic_build(t: str) -> str:
    """Return the classic build of target ``t``, tagged for this checkout too."""
    return BUILD.format(t=t, co=load_stack().checkout)


def config(env: str, env_file: str | None = None) -> str:
    """Return the query that reads an environment's merged model (every profile)."""
    return (
        COMPOSE.format(env=env).replace(f"env/.env.{env}", env_file or f"env/.env.{env}")
        + ALL
        + " config --format json"
    )


def model(env: str) -> str:
    """Return what Compose says of an environment: api/worker/migrate built, db pulled."""
    root = str(Path.cwd())
    target = TARGETS[env]
    built = {
        "image": f"demo-app:{target}",
        "build": {"context": root, "dockerfile": "docker/Dockerfile", "target": target},
    }
    services = {"db": {"image": "postgres:17"}, "api": built, "migrate": built, "worker": built}
    return json.dumps({"services": services, "volumes": {"db-data": {}}})


HEALTHY = "\n".join(
    json.dumps(
        {
            "ID": svc,
            "Name": f"n-{svc}",
            "Service": svc,
            "State": state,
            "Health": health,
            "ExitCode": 0,
            "Publishers": pubs,
        }
    )
    for svc, state, health, pubs in [
        (
            "api",
            "running",
            "healthy",
            [{"URL": "127.0.0.1", "TargetPort": 8000, "PublishedPort": 8000}],
        ),
        ("migrate", "exited", "", []),
    ]
)


def context(extra: dict[str, Result] | None = None, *, dry: bool = False) -> MockContext:
    """Return a MockContext answering the git query, every model query, and ``extra``; nothing else."""
    answers = {
        GIT: Result("abc1234\n"),
        VERSION: Result("20.10.24\n"),
        **{query: Result("") for query in VOLUMES.values()},  # no data volume yet
        **(extra or {}),
    }
    c = MockContext(run=Result(""), repeat=True)
    c.config.run.dry = dry

    def answer(command: str, **_: object) -> Result:
        if command in answers:
            return answers[command]
        if command.endswith(ALL + " config --format json"):
            return Result(model(command.split("--project-name demo-app-")[1].split(maxsplit=1)[0]))
        msg = f"unexpected command: {command}"
        raise AssertionError(msg)

    cast("Mock", c.run).side_effect = answer
    return c


def calls(c: MockContext) -> list[Any]:
    """Return the calls made to MockContext.run (a Mock wrapping it)."""
    return list(cast("Mock", c.run).call_args_list)


def commands(c: MockContext) -> list[str]:
    return [call.args[0] for call in calls(c)]


def kwargs(c: MockContext) -> list[dict[str, Any]]:
    return [call.kwargs for call in calls(c)]


@pytest.fixture
def env_files(project: Path) -> Path:
    """env/.env.dev and env/.env.test as a developer has them after the first `up`."""
    for env in ("dev", "test"):
        (project / f"env/.env.{env}").write_text("POSTGRES_USER=demo\nPOSTGRES_PASSWORD=x\n")
    return project


@pytest.mark.usefixtures("project")
def test_dev_up_builds_starts_waits_and_prints_urls(capsys: pytest.CaptureFixture[str]) -> None:
    """Read the model, build its one image once, up without Compose building, poll, print URLs."""
    c = context(
        {
            fresh_before("development"): Result(),
            classic_build(t="development"): Result(),
            fresh_after("development"): Result(),
            f"{DEV} {UP}": Result(),
            f"{DEV_Q} ps --all --format json": Result(HEALTHY),
        }
    )
    stack.dev_up(c)
    assert commands(c) == [
        config("dev"),
        VERSION,
        VOLUMES["dev"],  # data created with other secrets? (none here)
        GIT,
        fresh_before("development"),  # nothing built yet: no tag has an ID
        classic_build(t="development"),
        fresh_after("development"),
        f"{DEV} {UP}",
        f"{DEV_Q} ps --all --format json",
        VOLUMES["dev"],  # the new volumes' secrets remembered (none here)
    ]
    assert capsys.readouterr().out == (
        "dev stack is up: 2 containers ready\n  api        http://localhost:8000\n"
    )


def test_dev_up_creates_the_env_file_on_first_use(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A new developer gets env/.env.dev from the example, and is told so."""
    c = context(
        {
            BUILT.format(t="development"): Result("sha256:1\n"),
            f"{DEV} {UP}": Result(),
            f"{DEV_Q} ps --all --format json": Result(HEALTHY),
        }
    )
    stack.dev_up(c, build=False)
    assert (project / "env/.env.dev").is_file()
    assert "shipyard: created " in capsys.readouterr().err


def test_dev_up_dry_prints_and_waits_for_nothing(project: Path) -> None:
    """`inv --dry dev-up`: the same commands, no waiting, no file created (the example stands in)."""
    dev = DEV.replace("env/.env.dev", "env/.env.example")
    c = context({classic_build(t="development"): Result(), f"{dev} {UP}": Result()}, dry=True)
    stack.dev_up(c)
    assert commands(c) == [
        config("dev", "env/.env.example"),
        VERSION,
        VOLUMES["dev"],
        GIT,
        classic_build(t="development"),
        f"{dev} {UP}",
    ]
    assert kwargs(c)[0]["dry"] is False  # the model query really ran
    assert not (project / "env/.env.dev").exists()


@pytest.mark.usefixtures("project")
def test_up_scales_a_service_and_starts_a_profile() -> None:
    """`inv up --scale worker=3 --profile etl`: Compose gets both; queries see every profile."""
    up = f"{DEV} --profile etl {UP} --scale worker=3"
    c = context({f"{DEV_Q} ps --all --format json": Result(HEALTHY), up: Result()})
    with pytest.raises(Exit):  # the fixture's model has no profile etl
        stack.up(c, scale=["worker=3"], profile=["etl"], build=False)
    c = context(
        {
            BUILT.format(t="development"): Result("sha256:1\n"),
            f"{DEV_Q} ps --all --format json": Result(HEALTHY),
            f"{DEV} {UP} --scale worker=3": Result(),
        }
    )
    stack.up(c, scale=["worker=3"], build=False)
    assert commands(c)[-3:-1] == [f"{DEV} {UP} --scale worker=3", f"{DEV_Q} ps --all --format json"]


@pytest.mark.parametrize(
    ("scale", "message"),
    [
        ("wokrer=3", "cannot scale 'wokrer=3': the dev stack has no service 'wokrer'"),
        ("worker=three", "cannot scale 'worker=three': the replica count must be a whole number"),
        ("worker", "cannot scale 'worker': the replica count must be a whole number"),
    ],
)
@pytest.mark.usefixtures("project")
def test_a_bad_scale_stops_before_any_build(
    scale: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A typo in --scale is one ERROR line with an example; nothing is built or started."""
    c = context()
    with pytest.raises(Exit):
        stack.dev_up(c, scale=[scale])
    err = capsys.readouterr().err
    assert err.splitlines()[-2:] == [
        f"ERROR: {message}",
        "TIP: write SERVICE=N, e.g. --scale api=3",
    ]
    assert commands(c) == [config("dev")]


@pytest.mark.parametrize(
    ("task", "args", "expected"),
    [
        pytest.param(stack.dev_down, {}, f"{DEV_Q} down --remove-orphans", id="dev-down"),
        pytest.param(
            stack.dev_down,
            {"volumes": True},
            f"{DEV_Q} down --remove-orphans --volumes",
            id="dev-down-volumes",
        ),
        pytest.param(stack.dev_restart, {}, f"{DEV_Q} restart", id="dev-restart"),
        pytest.param(
            stack.dev_restart, {"service": "api"}, f"{DEV_Q} restart api", id="dev-restart-api"
        ),
        pytest.param(stack.dev_logs, {}, f"{DEV_Q} logs --tail 100", id="dev-logs"),
        pytest.param(
            stack.dev_logs,
            {"service": "worker", "follow": True, "tail": 5},
            f"{DEV_Q} logs --tail 5 --follow worker",
            id="dev-logs-follow",
        ),
        pytest.param(stack.dev_status, {}, f"{DEV_Q} ps --all", id="dev-status"),
        pytest.param(
            stack.down, {"env": "test"}, f"{TEST_Q} down --remove-orphans", id="down-test"
        ),
        pytest.param(
            stack.logs,
            {"env": "test", "service": "db"},
            f"{TEST_Q} logs --tail 100 db",
            id="logs-test",
        ),
    ],
)
@pytest.mark.usefixtures("env_files")
def test_compose_tasks_run_exactly_one_command(
    task: Any, args: dict[str, Any], expected: str
) -> None:
    """Each stack task reads the model, then runs one compose command against every profile."""
    c = context({expected: Result()})
    task(c, **args)
    env = "test" if "test" in expected else "dev"
    listed = [VOLUMES[env]] if expected.endswith("--volumes") else []  # to confirm, to forget
    assert commands(c) == [config(env), *listed, expected]


KEPT_FIELDS = (
    '{{.Label "dev.shipyard.env"}}\t{{.Label "dev.shipyard.run"}}\t{{.Label "dev.shipyard.host"}}'
)
KEPT_LISTINGS = [
    f"docker {kind} --format '{{{{.{name}}}}}\t{KEPT_FIELDS}' --filter "
    "label=dev.shipyard.project=demo-app --filter label=dev.shipyard.run=kept"
    for kind, name in (("ps --all", "Names"), ("network ls", "Name"), ("volume ls", "Name"))
]


@pytest.mark.usefixtures("env_files")
def test_test_down_removes_test_ups_stack_and_the_kept_one() -> None:
    """`inv test-down`: compose down of `inv test-up`'s stack, then the kept stack by its labels."""
    down = f"{TEST_Q} down --remove-orphans --volumes"
    c = context({down: Result(), **{listing: Result("") for listing in KEPT_LISTINGS}})
    stack.test_down(c)
    assert commands(c) == [config("test"), VOLUMES["test"], down, *KEPT_LISTINGS]


def test_down_without_an_env_file_creates_none(project: Path) -> None:
    """`inv down --env prod` before any env/.env.prod: its template stands in; nothing written."""
    prod = COMPOSE.format(env="prod").replace("env/.env.prod", "env/.env.prod.example") + ALL
    c = context({f"{prod} down --remove-orphans": Result()})
    stack.down(c, env="prod")
    assert commands(c) == [config("prod", "env/.env.prod.example"), f"{prod} down --remove-orphans"]
    assert not (project / "env/.env.prod").exists()


@pytest.mark.usefixtures("env_files")
def test_dev_shell_is_interactive_without_a_pty_off_a_terminal() -> None:
    """`dev-shell` execs into the service; no pty unless stdin is a terminal (never on Windows)."""
    c = context(
        {
            RUNNING: Result("api\nworker\n"),
            f"{DEV_Q} exec -T worker python -m demo.migrate": Result(),
        }
    )
    stack.dev_shell(c, service="worker", cmd="python -m demo.migrate")
    assert commands(c)[1:] == [RUNNING, f"{DEV_Q} exec -T worker python -m demo.migrate"]
    assert "pty" not in kwargs(c)[2]


@pytest.mark.usefixtures("env_files")
def test_dev_shell_into_a_stopped_stack_says_start_it(capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing running: one ERROR naming the service and 'inv dev-up', not Compose's exec error."""
    c = context({RUNNING: Result("")})
    with pytest.raises(Exit):
        stack.dev_shell(c)
    assert capsys.readouterr().err.splitlines() == [
        "ERROR: service 'api' of the dev stack is not running",
        "TIP: start the stack with 'inv dev-up', then run the same command again",
    ]
    assert commands(c)[1:] == [RUNNING]


@pytest.mark.usefixtures("env_files")
def test_test_up_uses_the_test_target_and_project() -> None:
    """`test-up` builds the test stage and starts the test project."""
    c = context(
        {
            fresh_before("test"): Result(),
            classic_build(t="test"): Result(),
            fresh_after("test"): Result(),
            f"{TEST} {UP}": Result(),
            f"{TEST_Q} ps --all --format json": Result(HEALTHY),
        }
    )
    stack.test_up(c)
    assert commands(c)[1:8] == [
        VERSION,
        VOLUMES["test"],
        GIT,
        fresh_before("test"),
        classic_build(t="test"),
        fresh_after("test"),
        f"{TEST} {UP}",
    ]


def _all_configs() -> list[str]:
    return [
        config("ci"),
        config("dev", "env/.env.example"),
        config("prod", "env/.env.prod.example"),
        config("test", "env/.env.example"),
    ]


def test_docker_build_every_image_of_every_environment(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No option: each environment's images, each name once, tagged with and without the sha."""
    targets = ("test", "development", "production")
    builds = [classic_build(t=t) for t in targets]
    queries = [fresh_before(*targets), fresh_after(*targets)]
    c = context({b: Result() for b in [*builds, *queries]})
    images.docker_build(c)
    assert commands(c) == [*_all_configs(), GIT, VERSION, queries[0], *builds, queries[1]]
    assert capsys.readouterr().out.split() == [
        "demo-app:test",
        "demo-app:test-abc1234",
        "demo-app:development",
        "demo-app:development-abc1234",
        "demo-app:production",
        "demo-app:production-abc1234",
    ]
    assert not (project / "env/.env.dev").exists()  # builds write no env file


@pytest.mark.usefixtures("project")
def test_docker_build_one_target_without_cache() -> None:
    """--target production --no-cache: only that image, every layer rebuilt."""
    expected = classic_build(t="production").replace(" .", " --no-cache .")
    c = context({expected: Result()})
    images.docker_build(c, target="production", no_cache=True)
    assert commands(c) == [*_all_configs(), GIT, VERSION, expected]


@pytest.mark.usefixtures("project")
def test_docker_build_one_environment_and_service() -> None:
    """--env dev --service worker: the image the worker runs in dev."""
    expected = classic_build(t="development")
    queries = [fresh_before("development"), fresh_after("development")]
    c = context({expected: Result(), **{q: Result() for q in queries}})
    images.docker_build(c, env=["dev"], service="worker")
    assert commands(c) == [
        config("dev", "env/.env.example"),
        GIT,
        VERSION,
        queries[0],
        expected,
        queries[1],
    ]


@pytest.mark.usefixtures("project")
def test_a_build_whose_inputs_and_tags_are_unchanged_is_skipped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The second build of unchanged files asks the engine once and builds nothing."""
    expected = classic_build(t="development")
    ids = "\n".join(f'["{tag}"] [] sha256:1' for tag in tags_of("development"))
    queries = {fresh_before("development"): Result(ids), fresh_after("development"): Result(ids)}
    c = context({expected: Result(), **queries})
    images.docker_build(c, env=["dev"], service="worker")
    again = context(queries)
    images.docker_build(again, env=["dev"], service="worker")
    # The model is cached too: no `config` either.
    assert commands(again) == [GIT, VERSION, fresh_before("development")]
    assert "up to date (nothing they are built from changed): demo-app:development" in (
        capsys.readouterr().err
    )


@pytest.mark.usefixtures("project")
def test_docker_build_names_the_images_when_nothing_matches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A service that builds nothing is an error listing what does build."""
    c = context()
    with pytest.raises(Exit):
        images.docker_build(c, env=["dev"], service="db")
    assert capsys.readouterr().err.splitlines()[-2:] == [
        "ERROR: no image to build for service 'db'",
        "TIP: pick a service that is built, e.g. 'inv docker-build --service api' "
        "(images: demo-app:development (api/migrate/worker))",
    ]


@pytest.mark.usefixtures("env_files")
def test_rebuild_no_cache_then_recreates() -> None:
    """`rebuild --no-cache` rebuilds every layer, then brings the stack up again."""
    build = classic_build(t="development").replace(" .", " --no-cache .")
    c = context(
        {
            build: Result(),
            f"{DEV} {UP}": Result(),
            f"{DEV_Q} ps --all --format json": Result(HEALTHY),
        }
    )
    stack.rebuild(c, no_cache=True)
    assert commands(c)[1:6] == [VERSION, VOLUMES["dev"], GIT, build, f"{DEV} {UP}"]


@pytest.mark.usefixtures("project")
def test_status_lists_every_environment(capsys: pytest.CaptureFixture[str]) -> None:
    """One `docker ps` over all projects; rows only for this stack's environments."""
    query = (
        "docker ps --all --filter label=com.docker.compose.project --format "
        '\'{{.Label "com.docker.compose.project"}}\t{{.Label "com.docker.compose.service"}}'
        "\t{{.State}}\t{{.Status}}\t{{.Ports}}'"
    )
    rows = "\n".join(
        [
            "demo-app-dev\tapi\trunning\tUp 2 minutes (healthy)\t127.0.0.1:8000->8000/tcp",
            "demo-app-test-ab12cd34\tdb\trunning\tUp 1 second (health: starting)\t",
            "other-project-dev\tapi\trunning\tUp 1 hour\t",
            "demo-app-dev\tmigrate\texited\tExited (0) 2 minutes ago\t",
        ]
    )
    c = context({query: Result(rows)})
    stack.status(c)
    assert commands(c) == [query]
    assert capsys.readouterr().out.splitlines() == [
        "ENV   PROJECT                 SERVICE  STATE    HEALTH    PORTS",
        "dev   demo-app-dev            api      running  healthy   127.0.0.1:8000->8000/tcp",
        "dev   demo-app-dev            migrate  exited   -",
        "test  demo-app-test-ab12cd34  db       running  starting",
    ]


@pytest.mark.usefixtures("project")
def test_status_json_for_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    """--json: one object per container with the same fields; [] when nothing runs."""
    row = "demo-app-dev\tapi\trunning\tUp 2 minutes (healthy)\t127.0.0.1:8000->8000/tcp"
    stack.status(MockContext(run=Result(row), repeat=True), json=True)
    assert json.loads(capsys.readouterr().out) == [
        {
            "env": "dev",
            "project": "demo-app-dev",
            "service": "api",
            "state": "running",
            "health": "healthy",
            "ports": "127.0.0.1:8000->8000/tcp",
        }
    ]
    stack.status(MockContext(run=Result(""), repeat=True), json=True)
    assert json.loads(capsys.readouterr().out) == []


@pytest.mark.usefixtures("project")
def test_status_with_nothing_running(capsys: pytest.CaptureFixture[str]) -> None:
    """An empty engine says so, naming the environments."""
    c = MockContext(run=Result(""), repeat=True)
    stack.status(c)
    assert (
        capsys.readouterr().out == "no containers of demo-app (environments: ci, dev, prod, test)\n"
    )


@pytest.mark.usefixtures("project")
def test_unknown_environment_exits_1_with_a_tip(capsys: pytest.CaptureFixture[str]) -> None:
    """A user mistake: one ERROR line, a TIP, exit 1, no traceback, no command run."""
    c = context()
    with pytest.raises(Exit) as caught:
        stack.up(c, env="stagign")
    assert caught.value.code == 1
    assert capsys.readouterr().err == (
        "ERROR: unknown environment 'stagign' (this stack has: ci, dev, prod, test)\n"
        "TIP: use one of those, or add compose/docker-compose.stagign.yml\n"
    )
    assert commands(c) == []


def test_prod_without_its_env_file_names_the_template(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`inv up --env prod` with no env/.env.prod points at the template, starts nothing."""
    c = context()
    with pytest.raises(Exit) as caught:
        stack.up(c, env="prod")
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ERROR: {project / 'env/.env.prod'} does not exist\nTIP: copy ")
    assert commands(c) == []


def test_malformed_env_file_stops_before_compose(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A broken line in env/.env.dev is reported with its line number; nothing runs."""
    (project / "env/.env.dev").write_text("A=1\nB 2\n")
    c = context()
    with pytest.raises(Exit):
        stack.dev_up(c)
    assert f"{project / 'env/.env.dev'}:2: cannot parse 'B 2'" in capsys.readouterr().err
    assert commands(c) == []


@pytest.mark.usefixtures("env_files")
def test_failed_command_exit_code_and_engine_check(capsys: pytest.CaptureFixture[str]) -> None:
    """A failing compose command exits with its status after checking the engine is up."""
    c = context(
        {
            f"{DEV_Q} restart": Result(exited=5, stderr="boom"),
        }
    )
    with pytest.raises(Exit) as caught:
        stack.dev_restart(c)
    assert caught.value.code == 5
    assert "ERROR: command failed: docker\n    command: docker compose" in capsys.readouterr().err


@pytest.mark.usefixtures("env_files")
def test_engine_down_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When `docker version` finds no server, the error says so, through which context, and the fix."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    c = context(
        {
            f"{DEV_Q} restart": Result(exited=1),
            VERSION: Result(
                exited=1, stderr="Cannot connect to the Docker daemon\ntemplate: noise"
            ),
            "docker context show": Result("desktop-linux\n"),
        }
    )
    with pytest.raises(Exit) as caught:
        stack.dev_restart(c)
    assert caught.value.code == 1
    assert capsys.readouterr().err.splitlines()[-2:] == [
        "ERROR: the Docker engine is not reachable through context desktop-linux: "
        "Cannot connect to the Docker daemon",
        "TIP: start Docker Desktop (or 'sudo systemctl start docker' on Linux) or switch to a "
        "running one ('docker context use default'), then check that 'docker version' shows a Server",
    ]


def test_namespace_has_every_task_with_help() -> None:
    """The reusable collection: the names users type, each with one-line help."""
    ns = namespace()
    assert sorted(ns.task_names) == sorted(
        [
            "bootstrap",
            "deploy",
            "deploy-status",
            "doctor",
            "dev-down",
            "dev-logs",
            "dev-restart",
            "dev-shell",
            "dev-status",
            "dev-up",
            "docker-build",
            "env-check",
            "env-explain",
            "env-init",
            "gc",
            "image-scan-secrets",
            "down",
            "logs",
            "promote",
            "push",
            "rebuild",
            "rollback",
            "status",
            "test",
            "test-down",
            "test-up",
            "undeploy",
            "up",
        ]
    )
    for name in ns.task_names:
        assert ns[name].__doc__, name


@pytest.mark.usefixtures("project")
def test_gc_dry_lists_and_removes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """`inv gc --dry` names what a dead run left and this project's untagged images."""
    c = MockContext(run=Result(""), repeat=True)

    def answer(command: str, **_: object) -> Result:
        if command.startswith("docker ps --all --format") and "dev.shipyard.run" in command:
            return Result("demo-app-test-dead-db-1\ttest\tdead\tnowhere-host\n")
        if command.startswith("docker images --filter label=org.opencontainers.image.title="):
            return Result("0123456789ab <none>:<none>\nfedcba987654 demo-app:test\n")
        return Result("")

    cast("Mock", c.run).side_effect = answer
    stack.gc(c, dry=True)
    out = capsys.readouterr().out
    assert (
        out == "would remove image 0123456789ab (untagged, left by a rebuild)\n"
    )  # other host: kept
    assert not any(
        cmd.startswith(("docker rm", "docker rmi", "docker network rm")) for cmd in commands(c)
    )


def test_docker_build_shares_layers_through_the_registry(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With cache-ref and --push-cache, the classic builder pushes its inline cache."""
    monkeypatch.setenv("SHIPYARD_CACHE_REF", "127.0.0.1:5000/demo-cache")
    cached = "127.0.0.1:5000/demo-cache:demo-app-test"
    build = classic_build(t="test").replace(
        " .", f" --build-arg BUILDKIT_INLINE_CACHE=1 --cache-from {cached} ."
    )
    tag = f"docker tag demo-app:test {cached}"
    push = f"docker push {cached}"
    c = context({build: Result(), tag: Result(), push: Result()})
    images.docker_build(c, target="test", push_cache=True)
    assert commands(c) == [*_all_configs(), GIT, VERSION, build, tag, push]


@pytest.mark.usefixtures("env_files")
@pytest.mark.parametrize(
    "call",
    [
        lambda c: stack.dev_logs(c, service="apii"),
        lambda c: stack.dev_shell(c, service="apii"),
        lambda c: stack.dev_restart(c, service="apii"),
    ],
    ids=["dev-logs", "dev-shell", "dev-restart"],
)
def test_an_unknown_service_is_named_with_the_list_before_compose_runs(
    call: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """A service typo ends in one ERROR with the close match and the services; compose never runs."""
    c = context({})
    with pytest.raises(Exit) as exit_info:
        call(c)
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "ERROR: the dev stack has no service 'apii' (did you mean 'api'?) (services: "
    )
    assert "TIP: use one of those, e.g. 'inv dev-logs --service " in err
    assert len(commands(c)) == 1  # only the model query


@pytest.mark.usefixtures("env_files")
def test_dev_shell_enters_the_first_built_service_by_default() -> None:
    """No --service: the first service built from a Dockerfile, not a hard-coded name."""
    c = context({RUNNING: Result("api\n"), f"{DEV_Q} exec -T api sh": Result()})
    stack.dev_shell(c)
    assert commands(c)[1:] == [RUNNING, f"{DEV_Q} exec -T api sh"]


def test_the_invoke_edge_turns_a_bug_into_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    """An unexpected exception in a task: one line, exit 70, the traceback in a file."""

    @shipyard_task()
    def broken(c: Context) -> None:
        """Fail as a bug would."""
        raise KeyError("missing")

    with pytest.raises(Exit) as exit_info:
        broken(context({}))
    assert exit_info.value.code == 70
    err = capsys.readouterr().err
    assert err.startswith(
        "ERROR: shipyard failed unexpectedly (KeyError: 'missing'). This is a bug"
    )
    Path(err.split("the traceback is in ")[1].split(":")[0]).unlink()


@pytest.mark.usefixtures("project")
def test_up_without_build_stops_before_compose_when_an_image_was_never_built(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`inv dev-up --no-build` on a fresh clone: one message, no `up` (nothing created)."""
    c = context({BUILT.format(t="development"): Result(exited=1)})
    with pytest.raises(Exit):
        stack.dev_up(c, build=False)
    assert not [command for command in commands(c) if UP in command]
    err = capsys.readouterr().err
    assert (
        "ERROR: the dev stack did not start: the image demo-app:development was never built" in err
    )
    assert "TIP: build it first ('inv docker-build --env dev', or without --no-build)" in err
