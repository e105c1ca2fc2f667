"""Real-engine fixtures: a private copy of the reference stack, always torn down."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.realstack import (
    Stack,
    committed_copy,
    copy_stack,
    docker,
    local_registry,
    remove_everything,
)


@pytest.fixture(scope="session", autouse=True)
def engine() -> None:
    """Fail (never skip) when there is no engine: these tests are the proof that shipyard works."""
    info = docker("info", "--format", "{{.ServerVersion}}", check=False)
    if info.returncode:
        pytest.fail(f"no Docker engine: {info.stderr.strip()} (run ../shared/engine/provision)")


@pytest.fixture(scope="session", autouse=True)
def private_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep what shipyard remembers per machine (volume fingerprints) inside the run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
        yield


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Copy the reference stack under a unique name; remove all it created afterwards."""
    copy = copy_stack(tmp_path_factory.mktemp("stack"))
    try:
        yield copy
    finally:
        remove_everything(copy.name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder `engine`, so `pytest -m "not engine"` skips them on purpose."""
    here = __file__.rsplit("/", 1)[0]
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.engine)


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[str]:
    """Run a real registry:2 on a free local port, without auth; remove it afterwards."""
    with local_registry(tmp_path) as address:
        yield address


@pytest.fixture
def committed(tmp_path: Path) -> Iterator[Stack]:
    """Copy the reference stack into a git repository of its own, with one commit."""
    with committed_copy(tmp_path) as stack:
        yield stack


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Stack]:
    """Copy the reference stack for one test (tests that break it on purpose), torn down after."""
    copy = copy_stack(tmp_path)
    try:
        yield copy
    finally:
        remove_everything(copy.name)
