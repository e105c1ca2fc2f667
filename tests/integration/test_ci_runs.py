"""CI-grade docker-test runs: isolated, always torn down, reaped after kill -9, diagnosable.

A dev stack with data is up for the whole module; every test checks it is
untouched afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.integration.realstack import BIN, Stack, as_a_terminal_job, docker
from tests.integration.test_dev_stack import http_json, wait_for_job

SLOW_TEST = "import time\n\ndef test_slow() -> None:\n    time.sleep(60)\n"


@pytest.fixture(scope="module")
def dev_job(stack: Stack) -> Iterator[tuple[str, object]]:
    """Bring the copy's dev stack up with one finished job in its database."""
    up = stack.run("inv", "dev-up")
    assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-2000:]
    api = f"http://127.0.0.1:{stack.api_port}"
    job = http_json(f"{api}/jobs", {"payload": "survive"})
    assert wait_for_job(f"{api}/jobs/{job['id']}")["result"] == "SURVIVE"
    try:
        yield api, job["id"]
    finally:
        stack.run("inv", "dev-down", "--volumes", "--yes")


def assert_dev_stack_intact(stack: Stack, dev_job: tuple[str, object]) -> None:
    api, job_id = dev_job
    assert http_json(f"{api}/jobs/{job_id}")["result"] == "SURVIVE"
    states = {row["Service"]: row["State"] for row in stack.compose_ps("dev")}
    assert states == {
        "api": "running",
        "db": "running",
        "migrate": "exited",
        "redis": "running",
        "worker": "running",
    }


def run_leftovers(stack: Stack) -> dict[str, list[str]]:
    return stack.leftovers(f"{stack.name}-test")


NOTHING: dict[str, list[str]] = {"containers": [], "networks": [], "volumes": []}


def labelled(stack: Stack) -> list[str]:
    """Every container, network and volume carrying this copy's run labels."""
    found = []
    for kind in ("ps --all", "network ls", "volume ls"):
        found += docker(
            *kind.split(),
            "--quiet",
            "--filter",
            f"label=dev.shipyard.project={stack.name}",
            "--filter",
            "label=dev.shipyard.run",
        ).stdout.split()
    return found


def edit(path: Path, old: str, new: str) -> str:
    original = path.read_text()
    assert original.count(old) == 1, old
    path.write_text(original.replace(old, new))
    return original


def test_parallel_runs_both_pass_and_leave_the_dev_stack_alone(
    stack: Stack, dev_job: tuple[str, object]
) -> None:
    """Two runs at once on one engine: both pass, each with its own project; nothing left."""

    def one(name: str) -> subprocess.CompletedProcess[str]:
        return stack.run(
            "nox", "-s", "docker-test", env={"SHIPYARD_RESULTS_DIR": f"results-{name}"}
        )

    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(one, ["a", "b"])
    for result in (first, second):
        assert result.returncode == 0, result.stderr[-3000:]
    projects = {
        line.split("--project-name ")[1].split()[0]
        for result in (first, second)
        for line in result.stderr.splitlines()
        if " up --detach" in line
    }
    assert len(projects) == 2
    assert (stack.root / "results-a/junit.xml").is_file()
    assert (stack.root / "results-b/coverage.xml").is_file()
    assert run_leftovers(stack) == NOTHING
    assert_dev_stack_intact(stack, dev_job)


def test_failing_migrate_job_fails_at_once_with_its_logs(
    stack: Stack, dev_job: tuple[str, object]
) -> None:
    """A job exiting 3: the run stops, naming the job, its exit code and its log; nothing left."""
    overlay = stack.root / "compose/docker-compose.test.yml"
    original = edit(
        overlay,
        "\n  migrate:\n",
        '\n  migrate:\n    command: ["sh", "-c", "echo migration exploded; exit 3"]\n',
    )
    try:
        result = stack.run("nox", "-s", "docker-test")
    finally:
        overlay.write_text(original)
    assert result.returncode == 1
    assert "ERROR: migrate (exited (3)) stopped" in result.stderr
    assert "migration exploded" in result.stderr
    assert "migration exploded" in (stack.root / "results/logs/migrate.log").read_text()
    assert run_leftovers(stack) == NOTHING
    assert_dev_stack_intact(stack, dev_job)


def test_health_check_that_never_passes_times_out_naming_it(
    stack: Stack, dev_job: tuple[str, object]
) -> None:
    """The timeout names the service, its last health-check output and its logs."""
    overlay = stack.root / "compose/docker-compose.test.yml"
    original = edit(
        overlay,
        "        target: /data\n    healthcheck:\n",
        "        target: /data\n    healthcheck:\n"
        '      test: ["CMD-SHELL", "echo redis is not ready yet; exit 1"]\n'
        "      retries: 1000\n",
    )
    try:
        result = stack.run("nox", "-s", "docker-test", env={"SHIPYARD_TIMEOUT": "8"})
    finally:
        overlay.write_text(original)
    assert result.returncode == 1
    assert "ERROR: timed out after 8s waiting for redis (running (starting))" in result.stderr
    assert "last health check: exit 1: redis is not ready yet" in result.stderr
    assert "Ready to accept connections" in result.stderr  # the tail of its logs
    assert run_leftovers(stack) == NOTHING
    assert_dev_stack_intact(stack, dev_job)


def start_slow_run(stack: Stack) -> subprocess.Popen[str]:
    """Start `nox -s docker-test -k slow` with a test that sleeps; return once it runs."""
    (stack.root / "app/tests/test_slow.py").write_text(SLOW_TEST)
    proc = subprocess.Popen(
        [str(BIN / "nox"), "-s", "docker-test", "--", "-k", "slow"],
        cwd=stack.root,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=as_a_terminal_job,  # noqa: PLW1509 - signal disposition only
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
    )
    deadline = time.monotonic() + 180
    while not any(name.endswith("-tests") for name in run_leftovers(stack)["containers"]):
        assert proc.poll() is None, proc.communicate()[0][-3000:]
        assert time.monotonic() < deadline, "the test container never started"
        time.sleep(0.5)
    time.sleep(2)  # let pytest start inside it
    return proc


def finish(proc: subprocess.Popen[str], stack: Stack) -> None:
    """Make sure nothing of a run's process group lingers; drop the slow test."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=60)  # reap it and close its pipe
    (stack.root / "app/tests/test_slow.py").unlink(missing_ok=True)


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"]
)
def test_interrupted_run_tears_down_and_exits_like_a_shell(
    stack: Stack, dev_job: tuple[str, object], sig: signal.Signals, code: int
) -> None:
    """Ctrl-C (130) or SIGTERM (143) mid-test: teardown runs before the exit."""
    proc = start_slow_run(stack)
    try:
        proc.send_signal(sig)
        output = proc.communicate(timeout=120)[0]
    finally:
        finish(proc, stack)
    assert proc.returncode == code, output[-3000:]
    assert "shipyard: everything the run started was removed" in output
    said = "ERROR: interrupted (Ctrl-C)" if code == 130 else "ERROR: stopped by SIGTERM"
    assert output.rstrip().endswith(said), output[-500:]
    assert run_leftovers(stack) == NOTHING
    assert_dev_stack_intact(stack, dev_job)


def test_kill_9_leaves_leftovers_that_gc_reaps(stack: Stack, dev_job: tuple[str, object]) -> None:
    """After kill -9 the run's resources stay; `inv gc --dry` lists them, `inv gc` removes them."""
    proc = start_slow_run(stack)
    try:
        proc.kill()
        proc.wait()
        left = labelled(stack)
        assert left, "kill -9 should leave the run's containers behind"
        dry = stack.run("inv", "gc", "--dry")
        assert dry.returncode == 0, dry.stderr
        assert "would remove container" in dry.stdout
        assert "would remove network" in dry.stdout
        assert labelled(stack) == left  # --dry removed nothing
        reaped = stack.run("inv", "gc")
        assert reaped.returncode == 0, reaped.stderr
        assert "removed container" in reaped.stdout
        deadline = time.monotonic() + 30
        while labelled(stack):  # poll, like testcontainers' reaper test
            assert time.monotonic() < deadline, labelled(stack)
            time.sleep(0.5)
    finally:
        finish(proc, stack)
    assert run_leftovers(stack) == NOTHING
    assert_dev_stack_intact(stack, dev_job)


def test_gc_never_touches_a_live_run(stack: Stack, dev_job: tuple[str, object]) -> None:
    """While a run is alive, gc leaves it alone; the run then passes its teardown."""
    proc = start_slow_run(stack)
    try:
        before = labelled(stack)
        reaped = stack.run("inv", "gc")
        assert reaped.returncode == 0, reaped.stderr
        assert "removed container" not in reaped.stdout
        assert labelled(stack) == before
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
        finish(proc, stack)
    assert run_leftovers(stack) == NOTHING
    assert_dev_stack_intact(stack, dev_job)
