from __future__ import annotations

from typing import Any

import psycopg
import redis
from fastapi.testclient import TestClient

from demo import store


def test_health_reports_database_and_redis(client: TestClient) -> None:
    """/health answers 200 only when both backends answer."""
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_job_round_trip_through_the_worker(
    client: TestClient, conn: psycopg.Connection[dict[str, Any]], queue: redis.Redis
) -> None:
    """A posted job is queued in Redis, completed by the worker step, and readable."""
    created = client.post("/jobs", json={"payload": "hello"})
    assert created.status_code == 201
    job = created.json()
    assert job["status"] == "queued"
    assert queue.llen(store.QUEUE) == 1

    assert store.process_next(conn, queue, timeout=1) == job["id"]

    done = client.get(f"/jobs/{job['id']}").json()
    assert done == {"id": job["id"], "payload": "hello", "status": "done", "result": "HELLO"}


def test_unknown_job_is_404(client: TestClient) -> None:
    """Reading a job that does not exist is a 404 naming it."""
    response = client.get("/jobs/999999999")
    assert response.status_code == 404
    assert response.json() == {"detail": "no job 999999999"}


def test_migrate_is_idempotent(conn: psycopg.Connection[dict[str, Any]]) -> None:
    """Running the migration twice leaves one jobs table."""
    store.migrate(conn)
    store.migrate(conn)
    count = conn.execute(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'jobs'"
    ).fetchone()
    assert count == {"n": 1}


def test_idle_worker_step_returns_none(
    conn: psycopg.Connection[dict[str, Any]], queue: redis.Redis
) -> None:
    """With nothing queued, one worker step waits and returns None."""
    assert store.process_next(conn, queue, timeout=0.1) is None
