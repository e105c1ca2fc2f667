"""`inv test` on a kept stack that is up and current: one look, then the suite, nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from filelock import FileLock

from shipyard.core.errors import ShipyardError
from shipyard.core.workspace import open_workspace
from shipyard.env.environment import Environment
from shipyard.testing import keeper, kept, sources, testrun
from tests.unit.conftest import app_image, environment, write
from tests.unit.fakes import FakeRunner

SERVICES = {
    "db": {},
    "migrate": {"depends_on": {"db": {"condition": "service_healthy"}}},
    "tests": {
        "profiles": ["tests"],
        "command": ["pytest"],
        "depends_on": {"migrate": {"condition": "service_completed_successfully"}},
    },
}
PS = [
    "docker",
    "ps",
    "--all",
    "--filter",
    "label=dev.shipyard.project=demo-app",
    "--filter",
    "label=dev.shipyard.run=kept",
    "--format",
    '{{.ID}}\t{{.Names}}\t{{.State}}\t{{.Status}}\t{{.Label "com.docker.compose.service"}}',
]
UP = "\n".join(
    [
        "1\tdemo-app-test-kept-db-1\trunning\tUp 3 minutes (healthy)\tdb",
        "2\tdemo-app-test-kept-migrate-1\texited\tExited (0) 3 minutes ago\tmigrate",
        "3\tdemo-app-test-kept-tests\trunning\tUp 3 minutes\ttests",
    ]
)


@pytest.fixture
def env(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Environment:
    """Return the test environment, its image built from the fixture project."""
    (project / "env/.env.test").write_text("POSTGRES_USER=demo\nPOSTGRES_PASSWORD=x\n")
    write(project / "docker/Dockerfile", "FROM python:3.13-slim AS test\nWORKDIR /app\nCOPY . .\n")
    write(project / "src/demo/__init__.py", "")
    image = app_image(project, "test", ("migrate", "tests"))
    return environment(project, "test", SERVICES, images=(image,))


def _kept_up(env: Environment, config: dict[str, object]) -> FileLock:
    """Record a current kept stack and hold its lock, as its keeper does."""
    run = kept.kept_run(open_workspace(FakeRunner()), env)
    run.lock_file.parent.mkdir(parents=True, exist_ok=True)
    image = env.images[0]
    inputs = sources.build_inputs([image], sources.source_mounts(image))
    state = {"image": "sha256:1", "inputs": inputs, "keeper": 1, "config": config}
    keeper.state_file(run).write_text(json.dumps(state))
    lock = FileLock(run.lock_file, thread_local=False)
    lock.acquire()
    return lock


def _runner(ps: str, status: int = 0) -> FakeRunner:
    return FakeRunner(lambda argv: (status, "") if argv[:2] == ["docker", "exec"] else (0, ps))


def test_a_current_healthy_stack_runs_the_suite_at_once(env: Environment) -> None:
    """One `docker ps`, then `docker exec` in the kept container: no build, no compose, no wait."""
    lock = _kept_up(env, {"Entrypoint": ["tini", "--"], "Cmd": ["pytest"]})
    runner = _runner(UP)
    try:
        status = kept.kept_test(open_workspace(runner), env, ["-k", "api"])
    finally:
        lock.release()
    assert status == 0
    assert runner.argvs == [
        PS,
        ["docker", "exec", "demo-app-test-kept-tests", "pytest", "-k", "api"],
    ]  # tini wants PID 1: an exec'd suite runs without it


def test_a_real_entrypoint_stays_and_a_shell_command_gets_its_arguments_in_addopts(
    env: Environment,
) -> None:
    """A project's entrypoint script runs as it would; sh -c gets pytest's args via env."""
    tests = {
        "profiles": ["tests"],
        "command": ["sh", "-c", "pytest"],
        "depends_on": {"migrate": {"condition": "service_completed_successfully"}},
    }
    services = {**SERVICES, "tests": tests}
    shell = Environment(**{**env.__dict__, "services": services})
    lock = _kept_up(shell, {"Entrypoint": ["/entrypoint.sh"]})
    runner = _runner(UP)
    try:
        kept.kept_test(open_workspace(runner), shell, ["-x"])
    finally:
        lock.release()
    assert runner.argvs[-1] == [
        "docker",
        "exec",
        "--env=PYTEST_ADDOPTS=-x",
        "demo-app-test-kept-tests",
        "/entrypoint.sh",
        "sh",
        "-c",
        "pytest",
    ]


def test_pytests_status_comes_back_and_no_tests_is_an_error(env: Environment) -> None:
    """A failing suite returns pytest's status; exit 5 (nothing collected) says why."""
    lock = _kept_up(env, {})
    try:
        assert kept.kept_test(open_workspace(_runner(UP, status=1)), env, []) == 1
        with pytest.raises(testrun.NoTestsCollected, match=r"'inv test -- -k NAME'"):
            kept.kept_test(open_workspace(_runner(UP, status=5)), env, ["-k", "nothing"])
    finally:
        lock.release()


def test_test_down_refuses_while_a_run_uses_the_stack(env: Environment) -> None:
    """`inv test-down` during an `inv test` says so, and removes nothing."""
    runner = FakeRunner()
    ws = open_workspace(runner)
    run = kept.kept_run(ws, env)
    run.lock_file.parent.mkdir(parents=True, exist_ok=True)
    busy = keeper.use_lock(run)
    busy.acquire()
    try:
        with pytest.raises(ShipyardError, match="an 'inv test' of demo-app is running"):
            kept.down(ws, env)
    finally:
        busy.release()
    assert runner.argvs == []


def test_test_down_leaves_no_lock_file_behind(env: Environment) -> None:
    """`inv test-down` removes the stack's files, the use lock's too."""
    run = kept.kept_run(open_workspace(FakeRunner()), env)
    run.lock_file.parent.mkdir(parents=True, exist_ok=True)
    keeper.state_file(run).write_text("{}")
    assert kept.down(open_workspace(FakeRunner()), env) == []
    assert sorted(p.name for p in run.lock_file.parent.iterdir()) == []


def test_what_the_build_made_in_a_mounted_folder_is_copied_to_the_host(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """hatch-vcs's _version.py, hidden by the src mount: copied out of the image, then the rest."""
    write(project / "src/demo/__init__.py", "")
    mounts = [sources.Mount(project / "src", "/app/src")]
    listing = "/app/src/demo/__init__.py\n/app/src/demo/_version.py\n"

    answers = {"run": listing, "create": "c1\n"}
    runner = FakeRunner(lambda argv: (0, answers.get(argv[1], "")))
    kept.copy_build_outputs(open_workspace(runner), "sha256:1", mounts)
    assert runner.argvs == [
        ["docker", "run", "--rm", "--entrypoint", "find", "sha256:1", "/app/src", "-type", "f"],
        ["docker", "create", "--entrypoint", "true", "sha256:1"],
        ["docker", "cp", "c1:/app/src/demo/_version.py", str(project / "src/demo/_version.py")],
        ["docker", "rm", "c1"],
    ]
    assert "copied what the build made into the mounted source: src/demo/_version.py" in (
        capsys.readouterr().err
    )
    runner = FakeRunner(lambda _argv: (0, "/app/src/demo/__init__.py\n"))
    kept.copy_build_outputs(open_workspace(runner), "sha256:1", mounts)
    assert len(runner.argvs) == 1  # nothing the host lacks: nothing created
