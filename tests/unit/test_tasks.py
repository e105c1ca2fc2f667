"""Every task against invoke's MockContext, asserting the exact commands it runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast
from unittest.mock import Mock

import pytest
from invoke.context import MockContext
from invoke.exceptions import Exit
from invoke.runners import Result

from shipyard.tasks import images, namespace, stack

GIT = "git -C . rev-parse --short HEAD"
COMPOSE = "docker compose --project-name demo-app-{env} --file compose/docker-compose.yml --file compose/docker-compose.{env}.yml --env-file env/.env.{env}"
DEV = COMPOSE.format(env="dev")
TEST = COMPOSE.format(env="test")
LABELS = "--label org.opencontainers.image.title=demo-app --label dev.shipyard.target={t} --label org.opencontainers.image.revision=abc1234"
BUILD = (
    "DOCKER_BUILDKIT=1 docker build --file docker/Dockerfile --target {t} --tag demo-app:{t} --tag demo-app:{t}-abc1234 "
    + LABELS
    + " ."
)
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
    c = MockContext(run={GIT: Result("abc1234\n"), **(extra or {})})
    c.config.run.dry = dry
    return c


def calls(c: MockContext) -> list[Any]:
    """Return the calls made to MockContext.run (a Mock wrapping it)."""
    return list(cast("Mock", c.run).call_args_list)


def commands(c: MockContext) -> list[str]:
    return [call.args[0] for call in calls(c)]


def kwargs(c: MockContext) -> list[dict[str, Any]]:
    return [call.kwargs for call in calls(c)]


@pytest.mark.usefixtures("project")
def test_dev_up_builds_starts_waits_and_prints_urls(capsys: pytest.CaptureFixture[str]) -> None:
    """Build the development target, up, poll until healthy, print URLs."""
    c = context(
        {
            BUILD.format(t="development"): Result(),
            f"{DEV} up --detach --remove-orphans": Result(),
            f"{DEV} ps --all --format json": Result(HEALTHY),
        }
    )
    stack.dev_up(c)
    assert commands(c) == [
        GIT,
        BUILD.format(t="development"),
        f"{DEV} up --detach --remove-orphans",
        f"{DEV} ps --all --format json",
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
            f"{DEV} up --detach --remove-orphans": Result(),
            f"{DEV} ps --all --format json": Result(HEALTHY),
        }
    )
    stack.dev_up(c, build=False)
    assert (project / "env/.env.dev").is_file()
    assert "shipyard: created " in capsys.readouterr().err


def test_dev_up_dry_prints_and_waits_for_nothing(project: Path) -> None:
    """`inv --dry dev-up`: the same commands, no waiting, no file created."""
    c = context(
        {BUILD.format(t="development"): Result(), f"{DEV} up --detach --remove-orphans": Result()},
        dry=True,
    )
    stack.dev_up(c)
    assert commands(c) == [
        GIT,
        BUILD.format(t="development"),
        f"{DEV} up --detach --remove-orphans",
    ]
    assert kwargs(c)[0]["dry"] is False  # the git query really ran
    assert not (project / "env/.env.dev").exists()


@pytest.mark.parametrize(
    ("task", "args", "expected"),
    [
        pytest.param(stack.dev_down, {}, f"{DEV} down --remove-orphans", id="dev-down"),
        pytest.param(
            stack.dev_down,
            {"volumes": True},
            f"{DEV} down --remove-orphans --volumes",
            id="dev-down-volumes",
        ),
        pytest.param(stack.dev_restart, {}, f"{DEV} restart", id="dev-restart"),
        pytest.param(
            stack.dev_restart, {"service": "api"}, f"{DEV} restart api", id="dev-restart-api"
        ),
        pytest.param(stack.dev_logs, {}, f"{DEV} logs --tail 100", id="dev-logs"),
        pytest.param(
            stack.dev_logs,
            {"service": "worker", "follow": True, "tail": 5},
            f"{DEV} logs --tail 5 --follow worker",
            id="dev-logs-follow",
        ),
        pytest.param(stack.dev_status, {}, f"{DEV} ps --all", id="dev-status"),
        pytest.param(
            stack.test_down, {}, f"{TEST} down --remove-orphans --volumes", id="test-down"
        ),
        pytest.param(stack.down, {"env": "test"}, f"{TEST} down --remove-orphans", id="down-test"),
        pytest.param(
            stack.logs,
            {"env": "test", "service": "db"},
            f"{TEST} logs --tail 100 db",
            id="logs-test",
        ),
    ],
)
@pytest.mark.usefixtures("project")
def test_compose_tasks_run_exactly_one_command(
    task: Any, args: dict[str, Any], expected: str
) -> None:
    """Each stack task is one compose command against its environment's files and project."""
    c = context({expected: Result()})
    task(c, **args)
    assert commands(c) == [expected]


@pytest.mark.usefixtures("project")
def test_dev_shell_is_interactive_without_a_pty_off_a_terminal() -> None:
    """`dev-shell` execs into the service; no pty unless stdin is a terminal (never on Windows)."""
    c = context({f"{DEV} exec -T worker python -m demo.migrate": Result()})
    stack.dev_shell(c, service="worker", cmd="python -m demo.migrate")
    assert commands(c) == [f"{DEV} exec -T worker python -m demo.migrate"]
    assert "pty" not in kwargs(c)[0]


@pytest.mark.usefixtures("project")
def test_test_up_uses_the_test_target_and_project() -> None:
    """`test-up` builds the test stage and starts the test project."""
    c = context(
        {
            BUILD.format(t="test"): Result(),
            f"{TEST} up --detach --remove-orphans": Result(),
            f"{TEST} ps --all --format json": Result(HEALTHY),
        }
    )
    stack.test_up(c)
    assert commands(c)[1:3] == [BUILD.format(t="test"), f"{TEST} up --detach --remove-orphans"]


@pytest.mark.usefixtures("project")
def test_docker_build_all_targets(capsys: pytest.CaptureFixture[str]) -> None:
    """No --target: every stage an environment runs, tagged with and without the sha."""
    builds = [BUILD.format(t=t) for t in ("development", "test", "production")]
    c = context({b: Result() for b in builds})
    images.docker_build(c)
    assert commands(c) == [GIT, *builds]
    assert capsys.readouterr().out.split() == [
        "demo-app:development",
        "demo-app:development-abc1234",
        "demo-app:test",
        "demo-app:test-abc1234",
        "demo-app:production",
        "demo-app:production-abc1234",
    ]


@pytest.mark.usefixtures("project")
def test_docker_build_one_target_without_cache() -> None:
    """--target builder --no-cache."""
    expected = BUILD.format(t="builder").replace(" .", " --no-cache .")
    c = context({expected: Result()})
    images.docker_build(c, target="builder", no_cache=True)
    assert commands(c) == [GIT, expected]


@pytest.mark.usefixtures("project")
def test_rebuild_no_cache_then_recreates() -> None:
    """`rebuild --no-cache` rebuilds every layer, then brings the stack up again."""
    build = BUILD.format(t="development").replace(" .", " --no-cache .")
    c = context(
        {
            build: Result(),
            f"{DEV} up --detach --remove-orphans": Result(),
            f"{DEV} ps --all --format json": Result(HEALTHY),
        }
    )
    stack.rebuild(c, no_cache=True)
    assert commands(c)[1:3] == [build, f"{DEV} up --detach --remove-orphans"]


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
        stack.dev_down(c)
    assert f"{project / 'env/.env.dev'}:2: cannot parse 'B 2'" in capsys.readouterr().err
    assert commands(c) == []


@pytest.mark.usefixtures("project")
def test_failed_command_exit_code_and_engine_check(capsys: pytest.CaptureFixture[str]) -> None:
    """A failing compose command exits with its status after checking the engine is up."""
    c = context(
        {
            f"{DEV} restart": Result(exited=5, stderr="boom"),
            "docker info --format '{{.ServerVersion}}'": Result("20.10.24\n"),
        }
    )
    with pytest.raises(Exit) as caught:
        stack.dev_restart(c)
    assert caught.value.code == 5
    assert "ERROR: command failed: docker\n    command: docker compose" in capsys.readouterr().err


@pytest.mark.usefixtures("project")
def test_engine_down_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    """When `docker info` fails too, the error says the engine is down and how to start it."""
    c = context(
        {
            f"{DEV} restart": Result(exited=1),
            "docker info --format '{{.ServerVersion}}'": Result(
                exited=1, stderr="Cannot connect to the Docker daemon"
            ),
        }
    )
    with pytest.raises(Exit) as caught:
        stack.dev_restart(c)
    assert caught.value.code == 1
    assert capsys.readouterr().err.splitlines()[-2:] == [
        "ERROR: the Docker engine is not reachable: Cannot connect to the Docker daemon",
        (
            "TIP: start Docker Desktop (or the docker service on Linux), check that 'docker info' "
            "works, then run the same command again"
        ),
    ]


def test_namespace_has_every_task_with_help() -> None:
    """The reusable collection: the names users type, each with one-line help."""
    ns = namespace()
    assert sorted(ns.task_names) == sorted(
        [
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
            "rebuild",
            "status",
            "test-down",
            "test-up",
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
        if command.startswith("docker images --quiet --filter dangling=true"):
            return Result("0123456789ab\n")
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
    build = BUILD.format(t="test").replace(
        " .", " --build-arg BUILDKIT_INLINE_CACHE=1 --cache-from 127.0.0.1:5000/demo-cache:test ."
    )
    tag = "docker tag demo-app:test 127.0.0.1:5000/demo-cache:test"
    push = "docker push 127.0.0.1:5000/demo-cache:test"
    c = context({build: Result(), tag: Result(), push: Result()})
    images.docker_build(c, target="test", push_cache=True)
    assert commands(c) == [GIT, build, tag, push]
