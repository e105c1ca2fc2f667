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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integration.realstack import BIN, Stack, copy_stack, remove_everything


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Stack]:
    """Copy the reference stack for one test (these tests break it on purpose)."""
    copy = copy_stack(tmp_path)
    try:
        yield copy
    finally:
        remove_everything(copy.name)


@dataclass(frozen=True)
class Case:
    """One user mistake and what shipyard must answer."""

    argv: tuple[str, ...]
    error: str  # the start of the ERROR line
    tip: str  # a part of the TIP line
    exit_code: int = 1


def check(stack: Stack, case: Case) -> str:
    done = stack.run(*case.argv)
    assert done.returncode == case.exit_code, done.stdout[-1500:] + done.stderr[-1500:]
    error = next(line for line in done.stderr.splitlines() if line.startswith("ERROR: "))
    assert error.startswith(f"ERROR: {case.error}"), error
    assert any(line.startswith("TIP: ") and case.tip in line for line in done.stderr.splitlines())
    assert "Traceback" not in done.stdout + done.stderr
    assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}
    return done.stderr


CASES = {
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
    "environment-typo": Case(
        ("inv", "up", "--env", "prd"),
        "unknown environment 'prd' (did you mean 'prod'?)",
        "add compose/docker-compose.prd.yml",
    ),
    "target-typo": Case(
        ("inv", "docker-build", "--target", "prodution"),
        "no image to build for target 'prodution' (did you mean 'production'?)",
        "inv docker-build --service",
    ),
    "negative-timeout": Case(
        ("inv", "dev-up", "--timeout", "-5"),
        "timeout must be a positive number of seconds, not '-5' (from flag)",
        "timeout = 180",
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_a_mistake_is_one_message(fresh: Stack, name: str) -> None:
    """Exit 1, ERROR naming the problem, a TIP that says what to do, no traceback, no leftovers."""
    check(fresh, CASES[name])


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


def test_a_lock_out_of_date_fails_the_build(fresh: Stack) -> None:
    """A dependency added without re-locking is a failed build, not an image that lacks it."""
    pyproject = fresh.root / "app/pyproject.toml"
    text = pyproject.read_text()
    assert "dependencies = [" in text
    pyproject.write_text(text.replace("dependencies = [", 'dependencies = [\n    "six>=1.16",', 1))
    done = fresh.run("inv", "docker-build", "--env", "test")
    assert done.returncode == 1
    assert "needs to be updated" in done.stdout + done.stderr  # uv's own words, from --locked
    assert "Traceback" not in done.stdout + done.stderr
    shutil.rmtree(fresh.root / "results", ignore_errors=True)


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
