"""Bad inputs on a private copy of the reference stack: one clear message each, nothing lost.

Each case runs the real command and asserts the exit code, the ERROR line,
the TIP, that no traceback was printed, and what must still exist after.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.realstack import (
    BIN,
    REPO,
    Stack,
    as_a_terminal_job,
    copy_example,
    docker,
    remove_everything,
)

Setup = Callable[[Stack], None]


@dataclass(frozen=True)
class Case:
    """One user mistake and what shipyard must answer."""

    argv: tuple[str, ...]
    error: str  # what the ERROR line says (a part of it)
    tip: str  # a part of the TIP line
    exit_code: int = 1
    setup: Setup | None = None  # how the mistake is made, on the private copy
    env: tuple[tuple[str, str], ...] = ()  # variables set for the command
    cwd: str = "."  # where, inside the copy, the command runs
    creates: tuple[str, ...] = ()  # files a first use writes before the mistake shows


def snapshot(root: Path) -> dict[str, bytes]:
    """Return every file of the copy (what must still be there, unchanged, afterwards)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not {".nox", "__pycache__"} & set(p.relative_to(root).parts)
    }


def check(stack: Stack, case: Case) -> str:
    """Run the case: exit code, ERROR first, a TIP, no traceback, nothing lost or leaked."""
    before = snapshot(stack.root)
    volumes = stack.leftovers()["volumes"]
    done = stack.run(*case.argv, env=dict(case.env), cwd=stack.root / case.cwd)
    out = done.stdout + done.stderr
    assert done.returncode == case.exit_code, out[-3000:]
    error = next((line for line in out.splitlines() if "ERROR: " in line), "")
    assert case.error in error.split("ERROR: ", 1)[-1], error
    assert any(
        line.split("TIP: ", 1)[-1].find(case.tip) >= 0
        for line in out.splitlines()
        if "TIP: " in line
    ), out[-2000:]
    assert "Traceback" not in out
    after = snapshot(stack.root)
    assert sorted(set(after) - set(before)) == sorted(case.creates)
    assert {path: after[path] for path in before} == before  # no file lost or changed
    assert stack.leftovers() == {"containers": [], "networks": [], "volumes": volumes}
    return done.stderr


def append(path: str, text: str) -> Setup:
    """Return a setup that appends ``text`` to a file of the copy."""

    def setup(stack: Stack) -> None:
        target = stack.root / path
        target.write_text(target.read_text() + text)

    return setup


def api_port(value: str) -> Setup:
    """Return a setup that sets the copy's API_PORT in env/.env.dev to ``value``."""

    def setup(stack: Stack) -> None:
        replace_in("env/.env.dev", f"API_PORT={stack.api_port}\n", f"API_PORT={value}\n")(stack)

    return setup


def replace_in(path: str, old: str, new: str) -> Setup:
    """Return a setup that replaces ``old`` (which must be there) in a file of the copy."""

    def setup(stack: Stack) -> None:
        target = stack.root / path
        text = target.read_text()
        assert old in text, (path, old)
        target.write_text(text.replace(old, new, 1))

    return setup


def remove(path: str) -> Setup:
    """Return a setup that deletes a file of the copy."""
    return lambda stack: (stack.root / path).unlink()


def settings(line: str) -> Setup:
    """Return a setup that adds a line under [tool.shipyard]."""
    return replace_in("pyproject.toml", "[tool.shipyard]\n", f"[tool.shipyard]\n{line}\n")


def dev_volume(stack: Stack) -> None:
    """Create the dev stack's database volume as Compose would (the data at stake)."""
    docker(
        "volume",
        "create",
        "--label",
        f"com.docker.compose.project={stack.name}-dev",
        "--label",
        "com.docker.compose.volume=db-data",
        f"{stack.name}-dev_db-data",
    )


ENGINE_DOWN = (("DOCKER_HOST", "tcp://127.0.0.1:9"),)
NOT_REACHABLE = "the Docker engine is not reachable through DOCKER_HOST=tcp://127.0.0.1:9"
START_ENGINE = "or point DOCKER_HOST at a running engine (or unset it)"
BROKEN_TOML = append("pyproject.toml", "[tool\n")
COMPOSE_FIX = "fix what Compose says above"

CASES = {
    # Names: environments, services, targets, profiles (with a close match when there is one).
    "environment-typo": Case(
        ("inv", "up", "--env", "prd"),
        "unknown environment 'prd' (did you mean 'prod'?)",
        "add compose/docker-compose.prd.yml",
    ),
    "environment-typo-logs": Case(
        ("inv", "logs", "--env", "stagin"),
        "unknown environment 'stagin' (this stack has: ci, dev, prod, test)",
        "use one of those",
    ),
    "environment-typo-env-check": Case(
        ("inv", "env-check", "--env", "nope"), "unknown environment 'nope'", "use one of those"
    ),
    "environment-typo-nox": Case(
        ("nox", "-s", "docker-build", "--", "prd"),
        "unknown environment 'prd' (did you mean 'prod'?)",
        "add compose/docker-compose.prd.yml",
    ),
    "environment-typo-from-a-subfolder": Case(
        ("inv", "up", "--env", "prd"),
        "unknown environment 'prd' (did you mean 'prod'?)",
        "add compose/docker-compose.prd.yml",
        cwd="app/src",  # app/ has its own pyproject.toml: not the project
    ),
    "target-typo": Case(
        ("inv", "docker-build", "--target", "prodution"),
        "no image to build for target 'prodution' (did you mean 'production'?)",
        "inv docker-build --service",
    ),
    "service-typo-build": Case(
        ("inv", "docker-build", "--service", "apii"),
        "no image to build for service 'apii' (did you mean 'api'?)",
        "'inv docker-build --service api'",
    ),
    "service-typo-logs": Case(
        ("inv", "dev-logs", "--service", "apii"),
        "the dev stack has no service 'apii' (did you mean 'api'?)",
        "'inv dev-logs --service api'",
    ),
    "service-typo-shell": Case(
        ("inv", "dev-shell", "--service", "wrker"),
        "the dev stack has no service 'wrker' (did you mean 'worker'?)",
        "use one of those",
    ),
    "service-typo-restart": Case(
        ("inv", "dev-restart", "--service", "apii"),
        "the dev stack has no service 'apii' (did you mean 'api'?)",
        "use one of those",
    ),
    "scale-service-typo": Case(
        ("inv", "dev-up", "--scale", "wokrer=3"),
        "cannot scale 'wokrer=3': the dev stack has no service 'wokrer'",
        "write SERVICE=N, e.g. --scale api=3",
    ),
    "scale-count-not-a-number": Case(
        ("inv", "dev-up", "--scale", "worker=three"),
        "cannot scale 'worker=three': the replica count must be a whole number",
        "write SERVICE=N",
    ),
    "scale-a-published-port": Case(
        ("inv", "dev-up", "--scale", "api=2", "--no-build"),
        "cannot scale api to 2: its host port ",
        "publish no host port (or a range as wide as the replicas",
    ),
    "profile-unknown": Case(
        ("inv", "up", "--env", "dev", "--profile", "nope"),
        "the dev stack has no profile 'nope'",
        "leave --profile out",
    ),
    "explain-unknown-key": Case(
        ("inv", "env-explain", "--key", "NOPE"),
        "no service of the dev stack sees NOPE",
        "'inv env-explain --env dev'",
    ),
    # Numbers.
    "timeout-negative": Case(
        ("inv", "dev-up", "--timeout", "-5"),
        "timeout must be a positive number of seconds, not '-5' (from flag)",
        "timeout = 180",
    ),
    "timeout-zero": Case(
        ("inv", "dev-up", "--timeout", "0"),
        "timeout must be a positive number of seconds, not '0' (from flag)",
        "timeout = 180",
    ),
    "timeout-a-word": Case(
        ("inv", "test-up", "--timeout", "soon"),
        "timeout must be a positive number of seconds, not 'soon' (from flag)",
        "timeout = 180",
    ),
    "timeout-from-the-environment": Case(
        ("inv", "dev-up"),
        "timeout must be a positive number of seconds, not '-1' (from SHIPYARD_TIMEOUT)",
        "timeout = 180",
        env=(("SHIPYARD_TIMEOUT", "-1"),),
    ),
    # Settings.
    "settings-key-typo": Case(
        ("inv", "dev-up"),
        "unknown key(s) in [tool.shipyard]: timout (did you mean 'timeout'?)",
        "known keys: ",
        setup=settings("timout = 5"),
    ),
    "settings-unknown-builder": Case(
        ("inv", "docker-build"),
        "unknown builder 'kaniko'",
        "one of auto, buildx, docker",
        setup=settings('builder = "kaniko"'),
    ),
    "settings-compose-dir-nowhere": Case(
        ("inv", "dev-up"),
        "no nowhere/docker-compose.yml under ",
        "set compose-dir",
        setup=settings('compose-dir = "nowhere"'),
    ),
    "pyproject-not-toml": Case(
        ("inv", "dev-up"), "pyproject.toml is not valid TOML", "fix the file", setup=BROKEN_TOML
    ),
    "pyproject-not-toml-status": Case(
        ("inv", "status"), "pyproject.toml is not valid TOML", "fix the file", setup=BROKEN_TOML
    ),
    # Env files.
    "env-line-malformed": Case(
        ("inv", "dev-up"),
        "env/.env.dev has 1 line(s) that are not KEY=value",
        "write each line as KEY=value",
        setup=append("env/.env.dev", "JUST WORDS\n"),
    ),
    "env-key-twice": Case(
        ("inv", "dev-up"),
        "1 problem(s) in the dev env files",
        "'inv env-check --env dev'",
        setup=append("env/.env.dev", "POSTGRES_DB=other\n"),
    ),
    "env-key-typo": Case(
        ("inv", "dev-up"),
        "1 problem(s) in the dev env files",
        "'inv env-check --env dev'",
        setup=append("env/.env.dev", "POSTGRES_USR=x\n"),
    ),
    # A key the contract has, missing (a file made before the contract grew): shipyard's
    # env-check names it before Compose's interpolation errors.
    "env-required-value-missing": Case(
        ("inv", "dev-up"),
        "1 problem(s) in the dev env files",
        "'inv env-check --env dev'",
        setup=replace_in("env/.env.dev", "POSTGRES_DB=demo\n", ""),
    ),
    "env-port-not-a-number": Case(
        ("inv", "dev-up"),
        "1 problem(s) in the dev env files",
        "'inv env-check --env dev'",
        setup=api_port("18a31"),
    ),
    "env-required-value-empty": Case(
        ("inv", "dev-up"),
        "Compose cannot read the dev stack's files",
        COMPOSE_FIX,
        setup=replace_in("env/.env.dev", "POSTGRES_USER=demo\n", "POSTGRES_USER=\n"),
    ),
    "env-init-over-an-existing-file": Case(
        ("inv", "env-init", "--env", "dev"),
        "env/.env.dev exists already",
        "'inv env-init --env dev --force'",
    ),
    "env-init-without-a-contract": Case(
        ("inv", "env-init", "--env", "test"),
        "there is no env/.env.example to create env/.env.test from",
        "write the contract",
        setup=remove("env/.env.example"),
    ),
    "prod-env-file-not-written-yet": Case(
        ("inv", "up", "--env", "prod"),
        "env/.env.prod does not exist",
        "replace every placeholder in it",
    ),
    # Compose files.
    "overlay-not-yaml": Case(
        ("inv", "dev-up"),
        "Compose cannot read the dev stack's files",
        COMPOSE_FIX,
        setup=append("compose/docker-compose.dev.yml", "  api:\n    image: [oops\n"),
    ),
    "overlay-not-yaml-nox": Case(
        ("nox", "-s", "docker-test"),
        "Compose cannot read the test stack's files",
        COMPOSE_FIX,
        setup=append("compose/docker-compose.test.yml", "  api:\n    image: [oops\n"),
        creates=("env/.env.test",),  # its first use: made from the contract, then Compose read
    ),
    "base-compose-file-missing": Case(
        ("inv", "dev-up"),
        "no compose/docker-compose.yml under ",
        "run shipyard from the project folder",
        setup=remove("compose/docker-compose.yml"),
    ),
    "build-target-not-in-dockerfile": Case(
        ("inv", "docker-build", "--env", "dev"),
        "service 'api' builds target 'developmnt', but docker/Dockerfile has no such stage",
        "add 'FROM ... AS developmnt' to the Dockerfile",
        setup=replace_in(
            "compose/docker-compose.dev.yml", "target: development", "target: developmnt"
        ),
    ),
    "ca-bundle-missing": Case(
        ("inv", "docker-build"),
        "the CA bundle /nowhere/ca.pem (from SSL_CERT_FILE) does not exist",
        "point SSL_CERT_FILE / ca-bundle at your proxy's CA file",
        env=(("SSL_CERT_FILE", "/nowhere/ca.pem"),),
    ),
    # The engine: checked first, named with how it was reached.
    "engine-down-dev-up": Case(("inv", "dev-up"), NOT_REACHABLE, START_ENGINE, env=ENGINE_DOWN),
    "engine-down-docker-build": Case(
        ("inv", "docker-build"), NOT_REACHABLE, START_ENGINE, env=ENGINE_DOWN
    ),
    "engine-down-status": Case(("inv", "status"), NOT_REACHABLE, START_ENGINE, env=ENGINE_DOWN),
    "engine-down-nox-docker-test": Case(
        ("nox", "-s", "docker-test"), NOT_REACHABLE, START_ENGINE, env=ENGINE_DOWN
    ),
    "engine-down-shipyard-docker-test": Case(
        ("shipyard", "docker-test"), NOT_REACHABLE, START_ENGINE, env=ENGINE_DOWN
    ),
    "engine-down-shipyard-gc": Case(
        ("shipyard", "gc"), NOT_REACHABLE, START_ENGINE, env=ENGINE_DOWN
    ),
    # An image shipyard builds, never built, and Compose cannot pull it: nothing left behind.
    "no-build-before-any-build": Case(
        ("inv", "dev-up", "--no-build"),
        "the dev stack did not start: the image ",
        "build it first ('inv docker-build --env dev', or without --no-build)",
    ),
    # A stack that is not there.
    "shell-into-a-stopped-stack": Case(
        ("inv", "dev-shell"),
        "service 'api' of the dev stack is not running",
        "start the stack with 'inv dev-up'",
    ),
    # The data: never deleted without a yes.
    "delete-data-without-a-terminal": Case(
        ("inv", "dev-down", "--volumes"),
        "deleting the dev stack's data (",
        "'inv dev-down --volumes --yes'",
        setup=dev_volume,
    ),
    "delete-data-without-a-terminal-any-env": Case(
        ("inv", "down", "--env", "dev", "--volumes"),
        "deleting the dev stack's data (",
        "--volumes --yes'",
        setup=dev_volume,
    ),
    # shipyard init.
    "init-a-path-that-is-not-there": Case(
        ("shipyard", "init", "no/such/folder"),
        "no/such/folder is not a folder",
        "give the project's folder: shipyard init PATH",
    ),
    "init-a-folder-without-python": Case(
        ("shipyard", "init", "docker"),
        "no Python project in ",
        "the folder holding the project",
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_a_mistake_is_one_message(fresh: Stack, name: str) -> None:
    """The exit code, ERROR naming the problem, a TIP, no traceback; nothing lost or leaked."""
    case = CASES[name]
    if case.setup:
        case.setup(fresh)
    check(fresh, case)


def test_the_catalogue_is_at_least_forty_mistakes() -> None:
    """The floor issue 9 set: forty user mistakes, each with its answer."""
    assert len(CASES) >= 40


def test_nox_lists_sessions_with_a_broken_pyproject(fresh: Stack) -> None:
    """`nox -l` no longer parses pyproject.toml: it lists, and a session that needs it says why."""
    BROKEN_TOML(fresh)
    listed = fresh.run("nox", "-l")
    assert listed.returncode == 0, listed.stderr
    assert "docker-test" in listed.stdout
    assert "Traceback" not in listed.stdout + listed.stderr


def test_a_missing_dockerfile_stops_before_any_build(fresh: Stack) -> None:
    """No Dockerfile: the build is not attempted (it used to print nothing and exit 0)."""
    (fresh.root / "docker/Dockerfile").unlink()
    for argv in (("inv", "docker-build"), ("nox", "-s", "docker-build")):
        done = fresh.run(*argv)
        assert done.returncode == 1, argv
        out = done.stderr + done.stdout
        assert "ERROR: service 'api' builds from docker/Dockerfile, which does not exist" in out
        assert "'shipyard init' generates one" in out
        assert "Traceback" not in out
    assert "DONE" not in done.stdout + done.stderr  # BuildKit never ran a step


def test_a_missing_lock_is_named_with_its_fix(fresh: Stack) -> None:
    """No uv.lock: one line naming it and 'uv lock', not 35 lines of build log."""
    (fresh.root / "app/uv.lock").unlink()
    stderr = check(
        fresh,
        Case(
            ("inv", "docker-build"),
            "docker/Dockerfile needs uv.lock, not in app/ (building ",
            "run 'uv lock' and commit uv.lock",
        ),
    )
    assert stderr.count("\n") == 2  # ERROR and TIP: no build log
    assert (fresh.root / "app/pyproject.toml").is_file()


@pytest.mark.parametrize("builder", ["buildx", "docker"])
def test_a_lock_out_of_date_fails_the_build(fresh: Stack, builder: str) -> None:
    """A dependency added without re-locking: the failing step, uv's words, and `uv lock`."""
    pyproject = fresh.root / "app/pyproject.toml"
    text = pyproject.read_text()
    assert "dependencies = [" in text
    pyproject.write_text(text.replace("dependencies = [", 'dependencies = [\n    "six>=1.16",', 1))
    done = fresh.run("inv", "docker-build", "--env", "test", env={"SHIPYARD_BUILDER": builder})
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-2000:]
    errors = [line for line in out.splitlines() if line.startswith("ERROR: building")]
    assert len(errors) == 1, out[-3000:]
    assert errors[0].startswith(f"ERROR: building {fresh.name}"), errors
    assert "RUN uv sync" in errors[0], errors
    assert "TIP: uv.lock does not match pyproject.toml: run `uv lock`, commit uv.lock" in out
    assert "needs to be updated" in out.split(errors[0], 1)[1]  # uv's own words, under it
    assert "the whole build log: results/logs/build.log" in out
    assert "needs to be updated" in (fresh.root / "results/logs/build.log").read_text()
    assert "Traceback" not in out
    shutil.rmtree(fresh.root / "results", ignore_errors=True)


@pytest.mark.parametrize("builder", ["buildx", "docker"])
def test_a_dockerfile_typo_names_the_file_and_line(fresh: Stack, builder: str) -> None:
    """`RUNN` in the Dockerfile: its file and line, not 'command failed: docker'."""
    dockerfile = fresh.root / "docker/Dockerfile"
    lines = dockerfile.read_text().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith("FROM "))
    lines.insert(first + 1, "RUNN echo typo\n")
    dockerfile.write_text("".join(lines))
    done = fresh.run("nox", "-s", "docker-build", "--", "test", env={"SHIPYARD_BUILDER": builder})
    out = done.stdout + done.stderr
    assert done.returncode == 1, out[-2000:]
    assert (
        f"ERROR: building {fresh.name}:test failed: docker/Dockerfile, line {first + 2}: "
        "unknown instruction: RUNN"
    ) in out, out[-2000:]
    assert "TIP: fix that line of the Dockerfile" in out
    assert "command failed" not in out
    assert "Traceback" not in out


@pytest.mark.parametrize("builder", ["buildx", "docker"])
def test_ctrl_c_during_a_build_exits_130(fresh: Stack, builder: str) -> None:
    """Ctrl-C while BuildKit runs a step: one line and 130, not 1 and 'context canceled'."""
    dockerfile = fresh.root / "docker/Dockerfile"
    marker = f"echo {fresh.name}-{builder}; sleep 120"  # never cached: it must really run
    dockerfile.write_text(
        dockerfile.read_text().replace(
            "FROM ${PYTHON_IMAGE} AS base\n", f"FROM ${{PYTHON_IMAGE}} AS base\nRUN {marker}\n", 1
        )
    )
    env = {
        **os.environ,
        "SHIPYARD_BUILDER": builder,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
    }
    # Its own session, like a terminal's foreground job: Ctrl-C reaches every process in it.
    proc = subprocess.Popen(
        [str(BIN / "inv"), "docker-build", "--env", "prod"],
        cwd=fresh.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=as_a_terminal_job,  # noqa: PLW1509 - signal disposition only
    )
    seen: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line)
            if marker in line:
                break
        time.sleep(1)  # the step is running
        os.killpg(proc.pid, signal.SIGINT)
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    out = "".join(seen) + rest
    assert marker in out, out[-2000:]
    assert proc.returncode == 130, out[-2000:]
    assert out.rstrip().endswith("ERROR: interrupted (Ctrl-C)"), out[-2000:]
    assert "Traceback" not in out


def test_a_poetry_lock_out_of_date_fails_the_build(tmp_path: Path) -> None:
    """Poetry's export refuses a lock older than pyproject.toml: a failed build, not a stale image."""
    example = copy_example("poetry-services", tmp_path)
    try:
        pyproject = example.root / "orchestrator/pyproject.toml"
        text = pyproject.read_text()
        assert "dependencies = [" in text
        pyproject.write_text(
            text.replace("dependencies = [", 'dependencies = [\n    "six>=1.16",', 1)
        )
        done = example.run("inv", "docker-build", "--env", "dev", "--service", "orchestrator")
        out = done.stdout + done.stderr
        assert done.returncode == 1, out[-2000:]
        assert "pyproject.toml changed significantly since poetry.lock was last generated" in out
        assert "TIP: poetry.lock does not match pyproject.toml: run `poetry lock`" in out
        assert "Traceback" not in out
    finally:
        remove_everything(example.name)


def test_a_closed_pipe_after_inv_list_is_silent() -> None:
    """`inv --list | head`: the reader is gone before invoke prints; no traceback, exit 141."""
    listing = subprocess.Popen(
        [str(BIN / "inv"), "--list"], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert listing.stdout is not None
    listing.stdout.close()  # invoke needs ~0.1 s to start: it has not written yet
    _, err = listing.communicate(timeout=30)
    assert (listing.returncode, err) == (141, b"")
