from __future__ import annotations

import pytest

from shipyard.core.engine import Engine, detect_engine, diagnose
from shipyard.core.errors import CommandFailed, EngineError, ShipyardError
from tests.unit.fakes import FakeRunner


def answers(table: dict[tuple[str, ...], int]) -> FakeRunner:
    return FakeRunner(lambda argv: (table.get(tuple(argv), 0), ""))


INSPECT = "Name:          default\nDriver:        {driver}\nLast Activity: 2026-11-22\n"


@pytest.mark.parametrize(
    ("driver", "exports"), [("docker", False), ("docker-container", True), ("remote", True)]
)
def test_buildx_its_driver_and_compose_plugin(driver: str, exports: bool) -> None:
    """The probes answer: buildx with its driver builds, `docker compose` runs stacks."""
    runner = FakeRunner(
        lambda argv: (0, INSPECT.format(driver=driver) if argv[2:3] == ["inspect"] else "")
    )
    engine = detect_engine(runner)
    assert engine == Engine(buildx=True, compose=("docker", "compose"), driver=driver)
    assert engine.exports_cache is exports
    assert runner.argvs == [
        ["docker", "buildx", "version"],
        ["docker", "buildx", "inspect"],
        ["docker", "compose", "version"],
    ]
    assert all(call.options["query"] for call in runner.calls)


def test_without_a_cache_to_share_the_driver_is_not_probed() -> None:
    """No cache-ref: two probes, not three (the driver decides only how a cache is exported)."""
    runner = answers({})
    engine = detect_engine(runner, cache=False)
    assert engine == Engine(buildx=True, compose=("docker", "compose"), driver="")
    assert not engine.exports_cache
    assert runner.argvs == [["docker", "buildx", "version"], ["docker", "compose", "version"]]


def test_unreadable_buildx_inspect_means_the_docker_driver() -> None:
    """When `buildx inspect` says nothing useful, assume the driver that cannot export a cache."""
    engine = detect_engine(answers({("docker", "buildx", "inspect"): 1}))
    assert (engine.driver, engine.exports_cache) == ("docker", False)


def test_no_buildx_falls_back_to_in_client_buildkit_and_standalone_compose() -> None:
    """No buildx: `DOCKER_BUILDKIT=1 docker build`; no plugin: `docker-compose`."""
    runner = answers({("docker", "buildx", "version"): 1, ("docker", "compose", "version"): 1})
    engine = detect_engine(runner)
    assert engine == Engine(buildx=False, compose=("docker-compose",))
    assert engine.build_env() == {"DOCKER_BUILDKIT": "1"}
    assert ["docker", "buildx", "inspect"] not in runner.argvs


def test_no_compose_at_all() -> None:
    """Neither Compose is a clear error with a tip."""
    runner = answers({("docker", "compose", "version"): 1, ("docker-compose", "version"): 127})
    with pytest.raises(EngineError, match="Docker Compose was not found"):
        detect_engine(runner)


def test_configured_values_skip_the_probes() -> None:
    """builder/compose settings are used as they are."""
    runner = answers({})
    engine = detect_engine(runner, builder="docker", compose="podman compose")
    assert engine == Engine(buildx=False, compose=("podman", "compose"))
    assert runner.calls == []


def test_unknown_builder() -> None:
    """A builder setting outside auto/buildx/docker is rejected."""
    with pytest.raises(ShipyardError, match="unknown builder 'kaniko'"):
        detect_engine(answers({}), builder="kaniko")


def test_diagnose_engine_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed docker command becomes 'engine not reachable' when `docker version` fails too."""
    monkeypatch.setenv("DOCKER_HOST", "unix:///x.sock")
    runner = FakeRunner(
        lambda _argv: (1, "", "Cannot connect to the Docker daemon at unix:///x.sock")
    )
    failed = CommandFailed(["docker", "compose", "up"], 1)
    error = diagnose(failed, runner)
    assert isinstance(error, EngineError)
    assert error.message == (
        "the Docker engine is not reachable through DOCKER_HOST=unix:///x.sock: "
        "Cannot connect to the Docker daemon at unix:///x.sock"
    )
    assert error.tip is not None
    assert "or point DOCKER_HOST at a running engine (or unset it)" in error.tip
    assert runner.argvs == [["docker", "version", "--format", "{{.Server.Version}}"]]


def test_diagnose_keeps_real_command_failures() -> None:
    """With the engine up, the original failure stands."""
    failed = CommandFailed(["docker", "build"], 1)
    assert diagnose(failed, answers({})) is failed


def test_diagnose_ignores_other_errors() -> None:
    """Errors that are not failed docker commands are returned without probing."""
    runner = answers({})
    other = CommandFailed(["git", "status"], 1)
    assert diagnose(other, runner) is other
    assert runner.calls == []
