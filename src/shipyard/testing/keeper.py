"""The keeper of a kept test stack: it owns the stack, and removes it once left idle.

``inv test`` starts one per kept stack (``python -m shipyard.testing.keeper
PROJECT ENV IDLE``), in a session of its own. It holds the run's lock, as a
``docker-test`` process holds its own, so ``inv gc`` leaves a kept stack alone
while its keeper lives and reaps it once the keeper is gone (killed, the
machine restarted). Every ``inv test`` touches the stack's use file; when
nothing touched it for IDLE seconds and no ``inv test`` is using the stack,
the keeper removes everything of the stack (by its labels) and exits. It
also exits when the use file disappears: ``inv test-down`` removed the stack.
"""

from __future__ import annotations

import sys
import time
from contextlib import suppress
from pathlib import Path

from filelock import FileLock, Timeout

from shipyard.core.process import Runner, SubprocessRunner
from shipyard.testing import runs

KEPT = "kept"  # the run id of a kept stack: <project>-<env>-kept
TICK = 1.0  # seconds between two looks at the use file


def use_file(run: runs.Run) -> Path:
    """Return the file each ``inv test`` touches: its age is the stack's idle time."""
    return run.lock_file.with_suffix(".used")


def use_lock(run: runs.Run) -> FileLock:
    """Return the lock an ``inv test`` holds while it uses the stack (the keeper waits)."""
    return FileLock(run.lock_file.with_suffix(".inuse"), thread_local=False)


def release_gone(busy: FileLock) -> None:
    """Release the use lock of a stack just removed, and remove its file."""
    busy.release()
    Path(busy.lock_file).unlink(missing_ok=True)  # released first: a waiter opens it anew


def state_file(run: runs.Run) -> Path:
    """Return where ``inv test`` records the stack: image, inputs, container, keeper."""
    return run.lock_file.with_suffix(".json")


def log_file(run: runs.Run) -> Path:
    """Return where the keeper writes what it did."""
    return run.lock_file.with_suffix(".log")


def remove_stack(runner: Runner, run: runs.Run) -> list[str]:
    """Remove every container, network and volume of the kept stack, and its files.

    Return one line per thing removed. Its keeper, if alive, exits: its use file is gone.
    """
    use_file(run).unlink(missing_ok=True)
    found = runs.find_leftovers(runner, run.project, run.run_id)
    for leftovers in found:
        runs.remove(runner, leftovers)
    for path in (state_file(run), run.overlay_file, log_file(run)):
        with suppress(OSError):  # Windows keeps an open log (the keeper's own) in place
            path.unlink(missing_ok=True)
    return [line for item in found for line in item.describe()]


def keep(run: runs.Run, idle: float) -> int:
    """Hold the run's lock until the stack was idle ``idle`` seconds; then remove it."""
    lock = FileLock(run.lock_file, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return 0  # another keeper owns the stack
    runner = SubprocessRunner(echo=False)
    try:
        while True:
            used = use_file(run)
            try:
                idle_for = time.time() - used.stat().st_mtime
            except FileNotFoundError:
                return 0  # `inv test-down` removed the stack
            if idle_for >= idle:
                busy = use_lock(run)
                try:
                    busy.acquire(timeout=0)
                except Timeout:
                    time.sleep(TICK)
                    continue
                try:
                    sys.stdout.write(f"{run.compose_project}: idle {idle_for:.0f} s, removing\n")
                    sys.stdout.flush()
                    remove_stack(runner, run)
                finally:
                    release_gone(busy)
                return 0
            time.sleep(min(TICK, idle - idle_for))
    finally:
        lock.release()
        run.lock_file.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    """``python -m shipyard.testing.keeper PROJECT ENV IDLE_SECONDS``."""
    project, env, idle = argv
    return keep(runs.Run(project, env, KEPT), float(idle))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
