"""`inv test`: a kept test stack for the edit-test loop, on the real engine.

It survives between runs (same containers), picks up an edited test with no
build, rebuilds after a lock or Dockerfile change, never touches the dev
stack, and goes on `inv test-down`, after its idle time, and by `inv gc`
once its keeper was killed.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from shipyard.testing import keeper, runs
from tests.integration.realstack import Stack, docker

NEW_TEST = """
import os


def test_the_image_of_the_last_build() -> None:
    assert os.environ.get("KEPT_MARK", "") == "{mark}"
"""


def _run(stack: Stack) -> runs.Run:
    return runs.Run(stack.name, "test", keeper.KEPT)


def _containers(project: str) -> dict[str, str]:
    """Return name -> ID and start time of the containers of a compose project."""
    rows = docker(
        "ps",
        "--all",
        "--filter",
        f"label=com.docker.compose.project={project}",
        "--format",
        "{{.Names}}\t{{.ID}}",
    ).stdout.splitlines()
    found = dict(row.split("\t") for row in rows)
    for name, cid in list(found.items()):
        started = docker("inspect", "--format", "{{.State.StartedAt}}", cid).stdout.strip()
        found[name] = f"{cid} {started}"
    return found


def _keeper_pid(stack: Stack) -> int:
    return int(json.loads(keeper.state_file(_run(stack)).read_text())["keeper"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (the keeper's parent is gone) counts as gone.
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def _eventually(check: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return check()


def _ok(stack: Stack, *argv: str) -> str:
    result = stack.run(*argv)
    said = result.stdout + result.stderr
    assert result.returncode == 0, said[-4000:]
    return said


def _kill_keeper(stack: Stack) -> None:
    try:
        os.kill(_keeper_pid(stack), signal.SIGKILL)
    except (OSError, ValueError, KeyError):
        return


def test_the_kept_stack_serves_the_edit_test_loop(fresh: Stack) -> None:
    """Same containers run after run; an edit needs no build; a lock change rebuilds."""
    stack, kept = fresh, f"{fresh.name}-test-kept"
    try:
        _ok(stack, "inv", "dev-up")
        dev = _containers(f"{stack.name}-dev")
        assert dev

        said = _ok(stack, "inv", "test")
        assert " 7 passed" in said
        assert f"kept test stack {kept} is up" in said
        first = _containers(kept)
        assert {name.rsplit("-", 1)[0] for name in first} >= {f"{kept}-db", f"{kept}-redis"}

        said = _ok(stack, "inv", "test", "--", "-q", "-k", "health")
        assert "1 passed, 6 deselected" in said
        assert "bake" not in said  # nothing was built
        assert _containers(kept) == first  # same containers, not restarted

        (stack.root / "app/tests/test_kept.py").write_text(NEW_TEST.format(mark=""))
        said = _ok(stack, "inv", "test", "--", "-q")
        assert "8 passed" in said  # the edited test, with no rebuild
        assert "bake" not in said
        assert _containers(kept) == first

        dockerfile = stack.root / "docker/Dockerfile"
        dockerfile.write_text(
            dockerfile.read_text()
            .replace("FROM development AS test\n", "FROM development AS test\nENV KEPT_MARK=2\n")
            .replace(  # a file the build writes where the tests mount hides it
                "COPY tests ./tests\n",
                "COPY tests ./tests\nUSER root\nRUN echo 'MADE = 2' > tests/made.py\nUSER 1000\n",
            )
        )
        (stack.root / "app/tests/test_kept.py").write_text(NEW_TEST.format(mark="2"))
        with (stack.root / "app/uv.lock").open("a") as lock:
            lock.write("\n# a change to the lock\n")
        said = _ok(stack, "inv", "test", "--", "-q")
        assert "bake" in said  # rebuilt
        assert "the test image changed, started again" in said
        assert "8 passed" in said  # in the new image: KEPT_MARK=2
        assert "copied what the build made into the mounted source: " in said
        assert (stack.root / "app/tests/made.py").read_text() == "MADE = 2\n"
        now = _containers(kept)
        test_container = f"{kept}-tests"
        assert now[test_container] != first[test_container]
        assert now[f"{kept}-db-1"] == first[f"{kept}-db-1"]  # the database lives on

        assert _containers(f"{stack.name}-dev") == dev  # the dev stack was never touched

        pid = _keeper_pid(stack)
        said = _ok(stack, "inv", "test-down")
        assert f"removed container {test_container}" in said
        assert not keeper.state_file(_run(stack)).exists()
        assert _eventually(lambda: not _alive(pid)), "the keeper outlived its stack"
        assert stack.leftovers(kept) == {"containers": [], "networks": [], "volumes": []}
    finally:
        _kill_keeper(stack)
        stack.run("inv", "test-down")
        stack.run("inv", "dev-down", "--volumes", "--yes")


def test_the_kept_stack_goes_when_idle_or_when_its_keeper_dies(fresh: Stack) -> None:
    """An idle time of 3 s removes it; `inv gc` reaps one whose keeper was killed."""
    stack, kept = fresh, f"{fresh.name}-test-kept"
    try:
        _ok(stack, "inv", "test", "--idle", "3", "--", "-q", "-k", "health")
        pid = _keeper_pid(stack)
        assert _alive(pid)
        assert stack.leftovers(kept)["containers"]
        assert _eventually(lambda: not stack.leftovers(kept)["containers"]), "still up when idle"
        assert _eventually(lambda: not _alive(pid))
        assert stack.leftovers(kept) == {"containers": [], "networks": [], "volumes": []}

        _ok(stack, "inv", "test", "--", "-q", "-k", "health")
        said = _ok(stack, "inv", "gc", "--dry")
        assert kept not in said  # alive: not garbage
        pid = _keeper_pid(stack)
        os.kill(pid, signal.SIGKILL)
        assert _eventually(lambda: not _alive(pid))
        said = _ok(stack, "inv", "gc")
        assert f"removed container {kept}-tests (run {kept})" in said
        assert stack.leftovers(kept) == {"containers": [], "networks": [], "volumes": []}
    finally:
        _kill_keeper(stack)
        stack.run("inv", "test-down")
