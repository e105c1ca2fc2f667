"""Compose's model is read once per change of what it reads, and read again after any change."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from shipyard.core import cache
from shipyard.core.errors import ConfigError
from shipyard.core.workspace import open_workspace
from shipyard.env.environment import resolve
from shipyard.env.modelcache import inputs
from tests.unit.conftest import write
from tests.unit.fakes import FakeRunner

MODEL = {"services": {"db": {"image": "postgres:17"}}}


def _configs(runner: FakeRunner) -> int:
    return sum("config" in argv for argv in runner.argvs)


@pytest.fixture
def runner(project: Path) -> FakeRunner:
    """Return a runner answering `config`; give dev an env file, includes and env_files."""
    write(project / "env/.env.dev", "POSTGRES_USER=demo\n")
    write(
        project / "compose/docker-compose.dev.yml",
        "include:\n  - path: extra/services.yml\n    env_file: extra/extra.env\n"
        "services:\n  api:\n    env_file: ../env/api.env\n"
        "    environment:\n      DEBUG: ${SHIPYARD_TEST_DEBUG:-0}\n",
    )
    write(
        project / "compose/extra/services.yml",
        "services:\n  cache:\n    extends:\n      file: base.yml\n      service: redis\n",
    )
    write(project / "compose/extra/base.yml", "services:\n  redis:\n    image: redis:8\n")
    write(project / "compose/extra/extra.env", "A=1\n")
    write(project / "env/api.env", "B=2\n")
    return FakeRunner(lambda argv: (0, json.dumps(MODEL)) if "config" in argv else (0, ""))


def _read_twice(runner: FakeRunner, change: Callable[[], None]) -> int:
    ws = open_workspace(runner)
    resolve(ws, "dev")
    resolve(ws, "dev")
    before = _configs(runner)
    change()
    resolve(open_workspace(runner), "dev")
    return _configs(runner) - before


def test_an_unchanged_stack_is_read_once(runner: FakeRunner) -> None:
    """Two resolves (and a new workspace: another command) read the model once."""
    assert _read_twice(runner, lambda: None) == 0
    assert _configs(runner) == 1


@pytest.mark.parametrize(
    "path",
    [
        "compose/docker-compose.yml",  # a compose file
        "compose/docker-compose.dev.yml",  # the overlay
        "env/.env.dev",  # the --env-file
        "compose/extra/services.yml",  # an included file
        "compose/extra/base.yml",  # a file an included service extends
        "compose/extra/extra.env",  # an include's env file
        "env/api.env",  # a service's env_file
    ],
)
def test_editing_any_file_compose_reads_reads_it_again(
    runner: FakeRunner, project: Path, path: str
) -> None:
    """Each file Compose reads is in the key, by content."""

    def edit() -> None:
        with (project / path).open("a", encoding="utf-8") as out:
            out.write("\n# edited\n")

    assert _read_twice(runner, edit) == 1


def test_a_variable_the_files_name_is_in_the_key(
    runner: FakeRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Setting, changing or unsetting ${SHIPYARD_TEST_DEBUG} reads the model again."""
    assert _read_twice(runner, lambda: monkeypatch.setenv("SHIPYARD_TEST_DEBUG", "1")) == 1
    assert _read_twice(runner, lambda: monkeypatch.setenv("SHIPYARD_TEST_DEBUG", "2")) == 1
    assert _read_twice(runner, lambda: monkeypatch.delenv("SHIPYARD_TEST_DEBUG")) == 1


def test_compose_settings_of_the_environment_are_in_the_key(
    runner: FakeRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """COMPOSE_* (and DOCKER_*) variables change what Compose reads, named or not."""
    assert _read_twice(runner, lambda: monkeypatch.setenv("COMPOSE_PROFILES", "x")) == 1


def test_a_variable_the_files_do_not_name_is_not(
    runner: FakeRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unrelated variable leaves the cached model in use."""
    assert _read_twice(runner, lambda: monkeypatch.setenv("UNRELATED_TO_THE_STACK", "1")) == 0


def test_a_failed_read_is_not_kept(project: Path) -> None:
    """Compose refusing the files caches nothing: the next command asks again."""
    write(project / "env/.env.dev", "POSTGRES_USER=demo\nPOSTGRES_PASSWORD=x\n")
    answers = iter([(1, "", "bad"), (0, json.dumps(MODEL))])
    runner = FakeRunner(lambda argv: next(answers) if "config" in argv else (0, ""))
    with pytest.raises(ConfigError, match="Compose cannot read"):
        resolve(open_workspace(runner), "dev")
    assert resolve(open_workspace(runner), "dev").services == MODEL["services"]
    assert _configs(runner) == 2


def test_the_kept_model_is_readable_by_its_owner_alone(runner: FakeRunner) -> None:
    """Interpolated env values may be in it: mode 0600 in a 0700 folder."""
    resolve(open_workspace(runner), "dev")
    kept = list(cache.cache_dir().glob("model-*.json"))
    assert len(kept) == 1
    if os.name != "nt":
        assert stat.S_IMODE(kept[0].stat().st_mode) == 0o600
        assert stat.S_IMODE(cache.cache_dir().stat().st_mode) == 0o700


def test_inputs_follow_includes_extends_and_env_files(runner: FakeRunner, project: Path) -> None:
    """The files of the key, each once, in the order they were found."""
    del runner  # only its files
    found = inputs(
        [project / "compose/docker-compose.yml", project / "compose/docker-compose.dev.yml"],
        [project / "env/.env.dev"],
    )
    assert [p.relative_to(project).as_posix() for p in found] == [
        "compose/docker-compose.yml",
        "compose/docker-compose.dev.yml",
        "compose/extra/services.yml",
        "compose/extra/extra.env",
        "env/api.env",
        "compose/extra/base.yml",
        "env/.env.dev",
    ]
