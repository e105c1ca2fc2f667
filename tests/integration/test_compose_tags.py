"""Overlays that use Compose's own features (!reset, !override, include:, extends:) just work.

shipyard reads the merged model from `docker compose config`, so whatever
Compose accepts, dev-up, env-explain and docker-test accept too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.realstack import Stack, copy_stack, remove_everything

DEV_EXTRA = """
include:
  # A service of its own file, merged in by Compose.
  - path: extras.yml

  # (appended by the test) the published Redis port is dropped outright.
"""
EXTRAS = """\
services:
  cache:
    extends:
      file: docker-compose.yml
      service: redis
    volumes: !reset []
    healthcheck:
      interval: 1s
"""
WORKER_CHECK = (
    "  worker:\n    <<: *test-image\n    healthcheck:\n",
    # The whole health check replaced, not merged with the base file's.
    "  worker:\n    <<: *test-image\n    healthcheck: !override\n"
    '      test: ["CMD", "python", "-m", "demo.worker", "--check"]\n',
)


@pytest.fixture
def tagged(tmp_path: Path) -> Iterator[Stack]:
    stack = copy_stack(tmp_path)
    compose = stack.root / "compose"
    dev = compose / "docker-compose.dev.yml"
    text = dev.read_text().replace(
        '  redis:\n    ports:\n      - "127.0.0.1:${REDIS_PORT:-6379}:6379"\n',
        "  redis:\n    ports: !reset []\n",
    )
    assert "ports: !reset []" in text
    dev.write_text(DEV_EXTRA + text)
    (compose / "extras.yml").write_text(EXTRAS)
    test = compose / "docker-compose.test.yml"
    assert WORKER_CHECK[0] in test.read_text()
    test.write_text(test.read_text().replace(*WORKER_CHECK))
    try:
        yield stack
    finally:
        remove_everything(stack.name)


def test_reset_override_include_and_extends_work_with_dev_up_and_docker_test(
    tagged: Stack,
) -> None:
    """dev-up: the included service is healthy, the reset port gone; docker-test passes."""
    up = tagged.run("inv", "dev-up")
    assert up.returncode == 0, up.stdout[-2000:] + up.stderr[-3000:]
    rows = {str(row["Service"]): row for row in tagged.compose_ps("dev")}
    assert rows["cache"]["Health"] == "healthy"
    publishers = rows["redis"].get("Publishers") or []
    assert isinstance(publishers, list)
    assert [p for p in publishers if p.get("PublishedPort")] == []
    explained = tagged.run("inv", "env-explain", "--json")
    assert explained.returncode == 0, explained.stderr
    assert {row["service"] for row in json.loads(explained.stdout)["variables"]} >= {"api", "db"}
    down = tagged.run("inv", "dev-down", "--volumes", "--yes")
    assert down.returncode == 0, down.stderr

    tested = tagged.run("nox", "-s", "docker-test")
    assert tested.returncode == 0, tested.stdout[-3000:] + tested.stderr[-3000:]
    assert tagged.leftovers(f"{tagged.name}-test") == {
        "containers": [],
        "networks": [],
        "volumes": [],
    }
