"""docker-test's command sequence against a scripted runner: pass, fail, broken stack, Ctrl-C."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest

from shipyard.core.config import load_stack
from shipyard.core.errors import ConfigError, ShipyardError, StackNotReady
from shipyard.core.workspace import open_workspace
from shipyard.env.environment import Environment
from shipyard.testing import testrun
from tests.unit.conftest import app_image, environment, write_tree
from tests.unit.fakes import FakeRunner

SERVICES = {
    "db": {},
    "redis": {},
    "migrate": {"depends_on": {"db": {"condition": "service_healthy"}}},
    "worker": {"depends_on": {"db": {"condition": "service_healthy"}}},
    "tests": {
        "profiles": ["tests"],
        "depends_on": {
            "migrate": {"condition": "service_completed_successfully"},
            "redis": {"condition": "service_healthy"},
        },
    },
}
READY = "\n".join(
    json.dumps(r)
    for r in [
        {
            "ID": "1",
            "Name": "db",
            "Service": "db",
            "State": "running",
            "Health": "healthy",
            "ExitCode": 0,
        },
        {
            "ID": "2",
            "Name": "migrate",
            "Service": "migrate",
            "State": "exited",
            "Health": "",
            "ExitCode": 0,
        },
        {
            "ID": "3",
            "Name": "redis",
            "Service": "redis",
            "State": "running",
            "Health": "healthy",
            "ExitCode": 0,
        },
    ]
)
BROKEN = READY.replace(
    '"State": "exited", "Health": "", "ExitCode": 0',
    '"State": "exited", "Health": "", "ExitCode": 3',
)


@pytest.fixture
def stack(project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (project / "env/.env.test").write_text("POSTGRES_USER=demo\nPOSTGRES_PASSWORD=x\n")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    return project


@pytest.fixture
def env(stack: Path) -> Environment:
    """Return the test environment as Compose would report it: tests and migrate/worker built."""
    image = app_image(stack, "test", ("migrate", "tests", "worker"))
    return environment(stack, "test", SERVICES, images=(image,))


def scripted(ps: str, pytest_code: int = 0, *, interrupt: bool = False) -> FakeRunner:
    def script(argv: list[str]) -> tuple[int, str]:
        if "run" in argv and "--no-deps" in argv:
            if interrupt:
                raise KeyboardInterrupt
            return pytest_code, ""
        if argv[-4:] == ["ps", "--all", "--format", "json"]:
            return 0, ps
        return 0, ""

    return FakeRunner(script)


def compose(run_id: str, *args: str) -> list[str]:
    overlay = str(
        Path(tempfile.gettempdir()) / "shipyard-runs" / f"demo-app-test-{run_id}.labels.yml"
    )
    return [
        "docker",
        "compose",
        "--project-name",
        f"demo-app-test-{run_id}",
        "--file",
        "compose/docker-compose.yml",
        "--file",
        "compose/docker-compose.test.yml",
        "--file",
        overlay,
        "--env-file",
        "env/.env.test",
        *(["--profile", "*"] if args[0] != "up" else []),
        *args,
    ]


def sweep(run_id: str | None = None) -> list[list[str]]:
    label = f"label=dev.shipyard.run={run_id}" if run_id else "label=dev.shipyard.run"
    fields = '\t{{.Label "dev.shipyard.env"}}\t{{.Label "dev.shipyard.run"}}\t{{.Label "dev.shipyard.host"}}'
    return [
        [
            *listing,
            f"{name}{fields}",
            "--filter",
            "label=dev.shipyard.project=demo-app",
            "--filter",
            label,
        ]
        for listing, name in (
            (["docker", "ps", "--all", "--format"], "{{.Names}}"),
            (["docker", "network", "ls", "--format"], "{{.Name}}"),
            (["docker", "volume", "ls", "--format"], "{{.Name}}"),
        )
    ]


BUILD = [
    "docker",
    "build",
    "--file",
    "docker/Dockerfile",
    "--target",
    "test",
    "--tag",
    "demo-app:test",
    "--tag",
    "demo-app:test-at-{co}",
    "--label",
    "org.opencontainers.image.title=demo-app",
    "--label",
    "dev.shipyard.target=test",
    ".",
]
DANGLING = [
    "docker",
    "images",
    "--filter",
    "label=org.opencontainers.image.title=demo-app",
    "--format",
    "{{.ID}} {{.Repository}}:{{.Tag}}",
]
FRESHNESS = [
    "docker",
    "image",
    "inspect",
    "--format",
    "{{json .RepoTags}} {{json .RepoDigests}} {{.Id}}",
]
TAGS = ["demo-app:test", "demo-app:test-at-{co}"]
PYTEST = ["pytest", "--junitxml=/tmp/shipyard-results/junit.xml"]
INSPECT = ["docker", "image", "inspect", "--format", "{{json .Config}}", "demo-app:test-at-{co}"]


def here(argv: list[str]) -> list[str]:
    """Return ``argv`` with this checkout's id (the project folder's) in place of {co}."""
    return [word.replace("{co}", load_stack().checkout) for word in argv]


def test_passing_run_exact_commands(env: Environment) -> None:
    """Reap, build, up the dependencies only, wait, run pytest, copy results, tear down."""
    runner = scripted(READY)
    ws = open_workspace(runner)
    assert testrun.docker_test(ws, env, ["-k", "api"], run_id="r1") == 0
    assert runner.argvs == [
        ["docker", "version", "--format", "{{.Server.Version}}"],  # once, before anything
        DANGLING,  # no run of this host died holding its lock: no sweep for leftovers
        ["git", "-C", ".", "rev-parse", "--short", "HEAD"],
        here([*FRESHNESS, *TAGS, "python:3.13-slim"]),  # up to date? (nothing built yet)
        here(BUILD),
        here([*FRESHNESS, *TAGS]),  # what the build made, for the next run
        here(INSPECT),
        compose("r1", "up", "--detach", "--remove-orphans", "--no-build", "db", "migrate", "redis"),
        compose("r1", "ps", "--all", "--format", "json"),
        compose(
            "r1",
            "run",
            "--no-deps",
            "--name",
            "demo-app-test-r1-tests",
            "tests",
            *PYTEST,
            "-k",
            "api",
        ),
        [
            "docker",
            "container",
            "inspect",
            "--format",
            "{{.State.ExitCode}}",
            "demo-app-test-r1-tests",
        ],
        ["docker", "cp", "demo-app-test-r1-tests:/tmp/shipyard-results/.", "results"],
        ["docker", "rm", "--force", "--volumes", "demo-app-test-r1-tests"],
        compose("r1", "down", "--volumes", "--remove-orphans", "--timeout", "0"),
    ]  # `down` succeeded: nothing left to sweep
    assert runner.calls[7].options["timeout"] == 180.0  # the `up`
    assert not list(Path(tempfile.gettempdir(), "shipyard-runs").iterdir())  # lock and overlay gone


def test_a_run_that_died_holding_its_lock_is_reaped_first(env: Environment) -> None:
    """A lock file nobody holds (kill -9) is the evidence: the next run sweeps, then drops it."""
    runs_dir = Path(tempfile.gettempdir(), "shipyard-runs")
    runs_dir.mkdir(parents=True, exist_ok=True)
    (runs_dir / "demo-app-test-dead1.lock").write_text("")
    runner = scripted(READY)
    assert testrun.docker_test(open_workspace(runner), env, [], run_id="r3") == 0
    assert runner.argvs[1:4] == sweep()
    assert not (runs_dir / "demo-app-test-dead1.lock").exists()


def test_failing_tests_return_pytests_status_and_save_logs(stack: Path, env: Environment) -> None:
    """Pytest's status comes back; every service's log is saved; teardown still runs."""
    runner = scripted(READY, pytest_code=1)
    assert testrun.docker_test(open_workspace(runner), env, [], run_id="r2") == 1
    assert sorted(p.name for p in (stack / "results/logs").iterdir()) == [
        "db.log",
        "migrate.log",
        "redis.log",
    ]
    assert compose("r2", "logs", "--no-color", "--timestamps", "migrate") in runner.argvs
    assert runner.argvs[-4:-3] == [
        compose("r2", "down", "--volumes", "--remove-orphans", "--timeout", "0")
    ]


def test_no_tests_collected_is_an_error_with_pytests_status(env: Environment) -> None:
    """Pytest's 5 is an ERROR with a TIP, as every other mistake, and stays the exit status."""
    runner = scripted(READY, pytest_code=5)
    with pytest.raises(testrun.NoTestsCollected) as caught:
        testrun.docker_test(open_workspace(runner), env, ["-k", "nothing"], run_id="r5")
    assert caught.value.exit_code == 5
    assert caught.value.render() == (
        "ERROR: pytest collected no test in the test image (exit 5): none was found, or every "
        "test was deselected (pytest --junitxml=/tmp/shipyard-results/junit.xml -k nothing)\n"
        "TIP: check the paths, -k and -m you passed ('nox -s docker-test -- -k NAME') and in "
        "the test command, and that the tests are in the test image (COPY in the Dockerfile's "
        "test stage, not left out by .dockerignore)"
    )
    assert compose("r5", "down", "--volumes", "--remove-orphans", "--timeout", "0") in runner.argvs


def test_failed_job_raises_and_tears_down(env: Environment) -> None:
    """A dependency job exiting 3 never reaches pytest, and the stack is removed."""
    runner = scripted(BROKEN)
    with pytest.raises(StackNotReady, match=r"migrate \(exited \(3\)\) stopped"):
        testrun.docker_test(open_workspace(runner), env, [], run_id="r3")
    assert not any("--no-deps" in argv for argv in runner.argvs)
    assert compose("r3", "down", "--volumes", "--remove-orphans", "--timeout", "0") in runner.argvs


def test_interrupt_tears_down_then_propagates(env: Environment) -> None:
    """Ctrl-C during pytest: teardown runs, then the interrupt goes on to the edge."""
    runner = scripted(READY, interrupt=True)
    with pytest.raises(KeyboardInterrupt):
        testrun.docker_test(open_workspace(runner), env, [], run_id="r4")
    assert runner.argvs[-5:-3] == [
        ["docker", "rm", "--force", "--volumes", "demo-app-test-r4-tests"],
        compose("r4", "down", "--volumes", "--remove-orphans", "--timeout", "0"),
    ]


def test_a_test_container_that_never_started_is_not_a_pytest_status(env: Environment) -> None:
    """When `compose run` fails before the container exists, say so instead of passing its code on."""

    def script(argv: list[str]) -> tuple[int, str]:
        if "--no-deps" in argv:
            return 1, ""
        if argv[:3] == ["docker", "container", "inspect"]:
            return 1, ""
        if argv[-4:] == ["ps", "--all", "--format", "json"]:
            return 0, READY
        return 0, ""

    runner = FakeRunner(script)
    with pytest.raises(ShipyardError, match=r"never started \('compose run' exited 1\)"):
        testrun.docker_test(open_workspace(runner), env, [], run_id="r5")
    assert compose("r5", "down", "--volumes", "--remove-orphans", "--timeout", "0") in runner.argvs


def test_a_test_service_without_dependencies_starts_nothing(stack: Path) -> None:
    """No dependency: no `up` at all (it would start the whole stack), pytest runs alone."""
    services = {"api": {}, "tests": {"profiles": ["tests"]}}
    env = environment(stack, "test", services, images=(app_image(stack),))
    runner = scripted(READY)
    assert testrun.docker_test(open_workspace(runner), env, [], run_id="r6") == 0
    assert not any("up" in argv for argv in runner.argvs)
    assert any("--no-deps" in argv for argv in runner.argvs)


def test_a_test_service_that_is_not_built_is_a_clear_error(stack: Path) -> None:
    """A test service running someone else's image has no suite of ours: say so, run nothing."""
    env = environment(stack, "test", {"tests": {"image": "python:3.13-slim"}})
    runner = scripted(READY)
    with pytest.raises(ConfigError, match="'tests' of the test stack is not built"):
        testrun.docker_test(open_workspace(runner), env, [], run_id="r7")
    assert runner.argvs == []


def config_runner(config: dict[str, object]) -> FakeRunner:
    def script(argv: list[str]) -> tuple[int, str]:
        return (0, json.dumps(config)) if argv == here(INSPECT) else (0, "")

    return FakeRunner(script)


@pytest.mark.parametrize(
    ("service", "config", "argv", "env"),
    [
        # the image's CMD, the results flags, then the user's arguments
        (
            {},
            {"Cmd": ["pytest", "-p", "no:cacheprovider"]},
            ["pytest", "-p", "no:cacheprovider", *PYTEST[1:], "-k", "api"],
            {},
        ),
        # the service's own selection wins over the image's CMD
        (
            {"command": ["python", "-m", "pytest", "tests/a.py"]},
            {"Cmd": ["pytest"]},
            ["python", "-m", "pytest", "tests/a.py", *PYTEST[1:], "-k", "api"],
            {},
        ),
        (
            {"command": ["uv", "run", "pytest"]},
            {},
            ["uv", "run", "pytest", *PYTEST[1:], "-k", "api"],
            {},
        ),
        # a shell runs it: the flags go in PYTEST_ADDOPTS, after the image's own
        (
            {"command": ["sh", "-c", "alembic upgrade head && pytest tests/*.py"]},
            {"Env": ["PATH=/x", "PYTEST_ADDOPTS=-p no:cacheprovider"]},
            ["sh", "-c", "alembic upgrade head && pytest tests/*.py"],
            {
                "PYTEST_ADDOPTS": "-p no:cacheprovider --junitxml=/tmp/shipyard-results/junit.xml -k api"
            },
        ),
        # ... or after the service's own, which beats the image's
        (
            {"command": ["/bin/bash", "-c", "pytest"], "environment": {"PYTEST_ADDOPTS": "-x"}},
            {"Env": ["PYTEST_ADDOPTS=-p no:cacheprovider"]},
            ["/bin/bash", "-c", "pytest"],
            {"PYTEST_ADDOPTS": "-x --junitxml=/tmp/shipyard-results/junit.xml -k api"},
        ),
        # nothing to read at all (a dry run): plain pytest
        ({}, {}, [*PYTEST, "-k", "api"], {}),
    ],
)
def test_the_test_services_own_command_runs_with_the_results_flags(
    stack: Path,
    service: dict[str, object],
    config: dict[str, object],
    argv: list[str],
    env: dict[str, str],
) -> None:
    """docker-test adds only the results flags (and the user's) to the service's command."""
    services = {"tests": {"profiles": ["tests"], **service}}
    environ = environment(stack, "test", services, images=(app_image(stack),))
    ws = open_workspace(config_runner(config))
    assert testrun.suite_command(ws, environ, ["-k", "api"]) == (argv, env)


def test_addopts_are_passed_to_compose_run(stack: Path) -> None:
    """The PYTEST_ADDOPTS of a shell command reach the container through `compose run --env`."""
    services = {"tests": {"profiles": ["tests"], "command": ["sh", "-c", "pytest"]}}
    env = environment(stack, "test", services, images=(app_image(stack),))
    runner = config_runner({})
    assert testrun.docker_test(open_workspace(runner), env, [], run_id="r6") == 0
    run = next(argv for argv in runner.argvs if "--no-deps" in argv)
    assert run[-5:] == [
        "--env=PYTEST_ADDOPTS=--junitxml=/tmp/shipyard-results/junit.xml",
        "tests",
        "sh",
        "-c",
        "pytest",
    ]


def test_a_run_starts_without_the_reports_of_an_earlier_one(tmp_path: Path) -> None:
    """A stale junit.xml (93 failures) must not pass for a run that writes none."""
    write_tree(
        tmp_path,
        {
            "junit.xml": "<testsuites failures='93'/>",
            "coverage.xml": "<coverage/>",
            "logs/tests.log": "old",
            "notes.txt": "the user's",
        },
    )
    testrun.clear_results(tmp_path)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "logs",
        "notes.txt",
    ]
    testrun.clear_results(tmp_path / "never-made")  # a first run: nothing to clear


def test_a_runner_that_writes_no_junit_leaves_a_note_in_results(stack: Path) -> None:
    """Unittest's own runner writes no JUnit: results/ says so rather than holding nothing."""
    services = {"tests": {"profiles": ["tests"], "command": ["python", "-m", "unittest"]}}
    env = environment(stack, "test", services, images=(app_image(stack),))
    ws = open_workspace(config_runner({}))
    (ws.stack.results_dir / "junit.xml").parent.mkdir(parents=True, exist_ok=True)
    (ws.stack.results_dir / "junit.xml").write_text("<testsuites failures='93'/>")
    assert testrun.docker_test(ws, env, [], run_id="r7") == 0
    assert not (ws.stack.results_dir / "junit.xml").exists()
    note = (ws.stack.results_dir / "NO-JUNIT.txt").read_text()
    assert note == (
        "no results/junit.xml: the test command does not run pytest "
        "(python -m unittest); its runner reported above\n"
    )


def test_djangos_runner_gets_a_junit_writing_runner_mounted(stack: Path) -> None:
    """`manage.py test`: the project's runner with a JUnit-writing unittest runner, mounted."""
    services = {
        "tests": {
            "profiles": ["tests"],
            "command": ["python", "manage.py", "test", "--parallel", "1"],
            "environment": {"PYTHONPATH": "/app/src"},
        }
    }
    env = environment(stack, "test", services, images=(app_image(stack),))
    runner = config_runner({})
    ws = open_workspace(runner)
    assert testrun.suite_command(ws, env, ["app.tests"]) == (
        [
            "python",
            "manage.py",
            "test",
            "--parallel",
            "1",
            "--testrunner",
            "shipyard_junit.Runner",
            "app.tests",
        ],
        {
            "SHIPYARD_JUNIT_XML": "/tmp/shipyard-results/junit.xml",
            "PYTHONPATH": "/opt/shipyard-junit:/app/src",
        },
    )
    assert testrun.docker_test(ws, env, [], run_id="r8") == 0
    run = next(argv for argv in runner.argvs if "--no-deps" in argv and "run" in argv)
    mount = run[run.index("--volume") + 1]
    assert mount == f"{testrun.JUNIT_SOURCE}:/opt/shipyard-junit:ro"
    assert (testrun.JUNIT_SOURCE / "shipyard_junit.py").is_file()
    # A runner the project names itself is left alone, as is one a shell runs.
    assert not testrun.runs_django_tests_directly(
        ["python", "manage.py", "test", "--testrunner=x.R"]
    )
    assert not testrun.runs_django_tests_directly(["sh", "-c", "python manage.py test"])
