"""Data volumes remember their secrets: a changed one stops `up`; deleting data asks first."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core.errors import ConfigError, ShipyardError
from shipyard.core.workspace import open_workspace
from shipyard.env import datavolumes
from shipyard.env.environment import Environment
from shipyard.stack import stacks
from tests.unit.conftest import environment
from tests.unit.fakes import FakeRunner

LIST = [
    "docker",
    "volume",
    "ls",
    "--filter",
    "label=com.docker.compose.project=demo-app-dev",
    "--format",
    '{{.Name}}\t{{.Label "com.docker.compose.volume"}}',
]
DOWN = [
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
    "down",
    "--remove-orphans",
    "--volumes",
]
ENV_DEV = "POSTGRES_USER=demo\n# @secret\nPOSTGRES_PASSWORD={password}\n# @secret\nAPI_KEY=k1\n"


def engine_with_volumes(*, exist: bool = True) -> FakeRunner:
    def script(argv: list[str]) -> tuple[int, str]:
        if argv == LIST and exist:
            return 0, "demo-app-dev_db-data\tdb-data\ndemo-app-dev_redis-data\tredis-data\n"
        return 0, ""

    return FakeRunner(script)


def dev(project: Path, password: str) -> Environment:
    """Return the dev stack: db mounts db-data and gets the password; redis gets no secret."""
    (project / "env/.env.dev").write_text(ENV_DEV.format(password=password))
    db = {
        "image": "postgres:17",
        "environment": {"POSTGRES_USER": "demo", "POSTGRES_PASSWORD": password},
        "volumes": [{"type": "volume", "source": "db-data", "target": "/var/lib/postgresql/data"}],
    }
    redis = {"image": "redis:8", "volumes": [{"type": "volume", "source": "redis-data"}]}
    api = {"image": "demo-app:development", "environment": {"API_KEY": "k1", "DB": password}}
    return environment(project, "dev", {"db": db, "redis": redis, "api": api})


def test_a_changed_secret_stops_before_anything_starts(project: Path, private_state: Path) -> None:
    """Remembered with one password, checked with another: the key, the file, both fixes."""
    runner = engine_with_volumes()
    ws = open_workspace(runner)
    datavolumes.remember(ws, dev(project, "first-password"))
    saved = (private_state / "shipyard/volumes.json").read_text()
    assert "first-password" not in saved  # a fingerprint, never the value
    assert "POSTGRES_PASSWORD" in saved
    assert "API_KEY" not in saved  # the api mounts no volume
    datavolumes.check(ws, dev(project, "first-password"))  # unchanged: fine
    runner.calls.clear()
    with pytest.raises(ConfigError) as caught:
        datavolumes.check(ws, dev(project, "second-password"))
    assert caught.value.render() == (
        "ERROR: the dev stack's data was created with another POSTGRES_PASSWORD: it would not "
        "start\n"
        "    volume demo-app-dev_db-data was created with another POSTGRES_PASSWORD than "
        "env/.env.dev:3 holds now\n"
        "TIP: put the old value back in the env file, or delete the data and start over with "
        "'inv dev-down --volumes'"
    )
    assert runner.argvs == [LIST]  # read only


def test_a_volume_removed_outside_shipyard_is_forgotten(project: Path) -> None:
    """Gone (`docker volume rm`), then created again with a new password: no false alarm."""
    ws = open_workspace(engine_with_volumes())
    datavolumes.remember(ws, dev(project, "first-password"))
    assert (
        datavolumes.changed(open_workspace(engine_with_volumes(exist=False)), dev(project, "x"))
        == []
    )
    again = open_workspace(engine_with_volumes())
    datavolumes.remember(again, dev(project, "second-password"))
    datavolumes.check(again, dev(project, "second-password"))


def test_deleting_data_without_a_terminal_needs_yes(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No terminal, no --yes: nothing removed, and the TIP is the command that does it."""
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    runner = engine_with_volumes()
    ws = open_workspace(runner)
    with pytest.raises(ConfigError) as caught:
        stacks.down(
            ws, dev(project, "p"), volumes=True, confirm=stacks.ask_on_terminal("dev", yes=False)
        )
    assert caught.value.render() == (
        "ERROR: deleting the dev stack's data (demo-app-dev_db-data, demo-app-dev_redis-data) "
        "needs a yes, and there is no terminal to ask: nothing was removed\n"
        "TIP: to delete it, run 'inv dev-down --volumes --yes'"
    )
    assert DOWN not in runner.argvs


@pytest.mark.parametrize(("answer", "removed"), [("y", True), ("", False), ("no", False)])
def test_deleting_data_asks_on_a_terminal(
    project: Path, monkeypatch: pytest.MonkeyPatch, answer: str, removed: bool
) -> None:
    """On a terminal the question names the volumes; only y/yes deletes."""
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    asked: list[str] = []

    def ask(question: str) -> str:
        asked.append(question)
        return answer

    monkeypatch.setattr("builtins.input", ask)
    runner = engine_with_volumes()
    ws = open_workspace(runner)
    confirm = stacks.ask_on_terminal("dev", yes=False)
    if removed:
        stacks.down(ws, dev(project, "p"), volumes=True, confirm=confirm)
    else:
        with pytest.raises(ConfigError, match="kept the dev stack and its data"):
            stacks.down(ws, dev(project, "p"), volumes=True, confirm=confirm)
    assert asked == [
        "Delete the dev stack's data (demo-app-dev_db-data, demo-app-dev_redis-data)? "
        "It cannot be undone. [y/N] "
    ]
    assert (DOWN in runner.argvs) is removed


def test_yes_deletes_and_forgets(project: Path, private_state: Path) -> None:
    """--yes: no question; the records of the deleted volumes go with them."""
    runner = engine_with_volumes()
    ws = open_workspace(runner)
    datavolumes.remember(ws, dev(project, "p"))
    stacks.down(
        ws, dev(project, "p"), volumes=True, confirm=stacks.ask_on_terminal("dev", yes=True)
    )
    assert DOWN in runner.argvs
    assert "demo-app-dev_db-data" not in (private_state / "shipyard/volumes.json").read_text()


def test_a_first_start_that_never_became_healthy_remembers_its_data(
    project: Path, private_state: Path
) -> None:
    """The db made its data with this password even though the app never became healthy."""

    def script(argv: list[str]) -> tuple[int, str]:
        if argv == LIST:
            return 0, "demo-app-dev_db-data\tdb-data\n"
        if "up" in argv:
            return 1, "dependency failed to start: container demo-app-dev-api-1 is unhealthy"
        return 0, ""

    (project / "env/.env.example").write_text(ENV_DEV.format(password=""))
    ws = open_workspace(FakeRunner(script))
    with pytest.raises(ShipyardError) as caught:
        stacks.up(ws, dev(project, "first-password"), build=False)
    assert caught.value.message == "the dev stack did not start ('up' exited 1)"
    assert "POSTGRES_PASSWORD" in (private_state / "shipyard/volumes.json").read_text()
    with pytest.raises(ConfigError, match="created with another POSTGRES_PASSWORD"):
        datavolumes.check(ws, dev(project, "second-password"))


SWARM_LIST = [
    "docker",
    "volume",
    "ls",
    "--filter",
    "label=com.docker.stack.namespace=demo-prod",
    "--format",
    '{{.Name}}\t{{.Label "com.docker.compose.volume"}}',
]


def test_a_swarm_stacks_volumes_are_checked_by_their_namespace(
    project: Path, private_state: Path
) -> None:
    """`inv deploy`: the stack's volumes, named <stack>_<key>, remembered and checked alike."""
    runner = FakeRunner(
        lambda argv: (
            (0, "demo-prod_db-data\t\ndemo-prod_redis-data\t\n") if argv == SWARM_LIST else (0, "")
        )
    )
    ws = open_workspace(runner)
    assert datavolumes.existing(ws, dev(project, "p"), "demo-prod") == [
        datavolumes.Volume("db-data", "demo-prod_db-data"),
        datavolumes.Volume("redis-data", "demo-prod_redis-data"),
    ]
    datavolumes.remember(ws, dev(project, "first-password"), "demo-prod")
    assert "demo-prod_db-data" in (private_state / "shipyard/volumes.json").read_text()
    datavolumes.check(ws, dev(project, "first-password"), "demo-prod")
    with pytest.raises(ConfigError) as caught:
        datavolumes.check(ws, dev(project, "second-password"), "demo-prod")
    assert caught.value.render() == (
        "ERROR: the demo-prod stack's data was created with another POSTGRES_PASSWORD: it would "
        "not start\n"
        "    volume demo-prod_db-data was created with another POSTGRES_PASSWORD than "
        "env/.env.dev:3 holds now\n"
        "TIP: put the old value back in the env file, or delete the data and start over with "
        "'inv undeploy --env dev' and 'docker volume rm demo-prod_db-data'"
    )
    assert LIST not in runner.argvs  # never Compose's volumes of the same environment
