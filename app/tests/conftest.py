"""Fixtures that talk to the real PostgreSQL and Redis of the test stack."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient

from demo import store
from demo.api import app
from demo.settings import Settings


@pytest.fixture(scope="session")
def settings() -> Settings:
    return Settings.from_env()


@pytest.fixture
def conn(settings: Settings) -> Iterator[psycopg.Connection[dict[str, Any]]]:
    with store.connect(settings) as connection:
        store.migrate(connection)
        yield connection


@pytest.fixture
def queue(settings: Settings) -> Iterator[redis.Redis]:
    client = store.redis_client(settings)
    client.delete(store.QUEUE)
    yield client
    client.delete(store.QUEUE)
    client.close()


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
