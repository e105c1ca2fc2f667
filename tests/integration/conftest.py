"""Real-engine fixtures: a private copy of the reference stack, always torn down."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator

import pytest

from tests.integration.realstack import COPIED, REPO, Stack, docker, free_port, remove_everything


@pytest.fixture(scope="session", autouse=True)
def engine() -> None:
    """Fail (never skip) when there is no engine: these tests are the proof that shipyard works."""
    info = docker("info", "--format", "{{.ServerVersion}}", check=False)
    if info.returncode:
        pytest.fail(f"no Docker engine: {info.stderr.strip()} (run ../shared/engine/provision)")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Copy the reference stack under a unique name; remove all it created afterwards."""
    name = f"sy-it-{uuid.uuid4().hex[:6]}"
    root = tmp_path_factory.mktemp("stack") / name
    for item in COPIED:
        source, target = REPO / item, root / item
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(
                source, target, ignore=shutil.ignore_patterns(".venv", "__pycache__", "results")
            )
        else:
            shutil.copy2(source, target)
    for path in [root / "pyproject.toml", *sorted((root / "compose").glob("*.yml"))]:
        path.write_text(path.read_text().replace("shipyard-demo", name))
    api_port = free_port()
    env_dev = (root / "env/.env.example").read_text()
    for key, port in (
        ("API_PORT", api_port),
        ("POSTGRES_PORT", free_port()),
        ("REDIS_PORT", free_port()),
    ):
        env_dev = env_dev.replace(f"{key}=", f"{key}={port}\n#{key}=")
    (root / "env/.env.dev").write_text(env_dev)
    try:
        yield Stack(root, name, api_port)
    finally:
        remove_everything(name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder `engine`, so `pytest -m "not engine"` skips them on purpose."""
    here = __file__.rsplit("/", 1)[0]
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.engine)
