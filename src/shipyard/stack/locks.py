"""One command at a time per stack: a lock per Compose project on this machine.

Two ``inv dev-up`` at once raced on container names and one failed on
Compose's name conflict with no word of the other. A command that starts or
removes a stack holds an exclusive lock (filelock: flock on POSIX,
LockFileEx on Windows; the kernel drops it when the process dies) on a file
named after the Compose project; a second one says whose turn it is and
waits, or stops after ``wait`` seconds naming the other command's PID.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from shipyard.core.errors import ShipyardError

WAIT_SECONDS = 600.0  # as long as a cold build and a first start may take


def locks_dir() -> Path:
    """Return the folder of the stacks' lock files (per machine, as the engine is)."""
    return Path(tempfile.gettempdir()) / "shipyard-stacks"


class StackBusy(ShipyardError):
    """Another shipyard command held the stack for longer than the wait."""


@contextmanager
def one_at_a_time(
    project: str,
    what: str,
    *,
    say: Callable[[str], None],
    wait: float = WAIT_SECONDS,
) -> Iterator[None]:
    """Hold the lock of Compose project ``project`` while ``what`` (a command) runs."""
    folder = locks_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{project}.lock"
    owner = path.with_suffix(".owner")
    lock = FileLock(path, thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        holder = owner.read_text(encoding="utf-8").strip() if owner.is_file() else "another command"
        say(f"waiting for {holder} to finish with {project} (one command at a time per stack)")
        try:
            lock.acquire(timeout=wait)
        except Timeout:
            raise StackBusy(
                f"{project} is busy: {holder} has held it for more than {wait:g}s",
                tip="let it finish, or stop it (Ctrl-C in its terminal, or kill the PID above), "
                "then run the command again",
            ) from None
    try:
        command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else what
        owner.write_text(f"'{command}' (pid {os.getpid()})", encoding="utf-8")
        yield
    finally:
        owner.unlink(missing_ok=True)
        lock.release()
