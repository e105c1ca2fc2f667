"""One command at a time per stack: the second waits, says for whom, or stops with the PID."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from shipyard.stack import locks


@pytest.fixture(autouse=True)
def own_locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(locks, "locks_dir", lambda: tmp_path / "locks")


def test_a_second_command_stops_after_the_wait_naming_the_first() -> None:
    """The holder's command and PID are in the message; nothing of the holder's is touched."""
    said: list[str] = []
    with locks.one_at_a_time("demo-dev", "up", say=said.append):
        owner = (locks.locks_dir() / "demo-dev.owner").read_text()
        assert owner.endswith(f"(pid {os.getpid()})")
        with (
            pytest.raises(locks.StackBusy) as caught,
            locks.one_at_a_time("demo-dev", "down", say=said.append, wait=0.1),
        ):
            pass  # pragma: no cover - never entered
        assert (locks.locks_dir() / "demo-dev.owner").read_text() == owner
    assert caught.value.message == f"demo-dev is busy: {owner} has held it for more than 0.1s"
    assert said == [
        f"waiting for {owner} to finish with demo-dev (one command at a time per stack)"
    ]
    assert not (locks.locks_dir() / "demo-dev.owner").exists()  # released with its owner note


def test_the_second_command_runs_once_the_first_is_done() -> None:
    """A wait that ends in time: the second command goes on after the first released."""
    order: list[str] = []
    held = threading.Event()

    def first() -> None:
        with locks.one_at_a_time("demo-dev", "up", say=order.append):
            held.set()
            time.sleep(0.3)
            order.append("first done")

    thread = threading.Thread(target=first)
    thread.start()
    held.wait()
    with locks.one_at_a_time("demo-dev", "down", say=lambda _: order.append("waited")):
        order.append("second runs")
    thread.join()
    assert order == ["waited", "first done", "second runs"]


def test_another_stack_is_not_held() -> None:
    """demo-dev and demo-test are two stacks: no wait between them."""
    said: list[str] = []
    with (
        locks.one_at_a_time("demo-dev", "up", say=said.append),
        locks.one_at_a_time("demo-test", "up", say=said.append, wait=0),
    ):
        pass
    assert said == []
