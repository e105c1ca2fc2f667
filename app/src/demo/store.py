"""The jobs table and the Redis queue that feeds the worker."""

from __future__ import annotations

from typing import Any

import psycopg
import redis
from psycopg.rows import dict_row

from demo.settings import Settings

QUEUE = "demo:jobs"

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id          BIGSERIAL PRIMARY KEY,
    payload     TEXT        NOT NULL,
    status      TEXT        NOT NULL DEFAULT 'queued',
    result      TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
)
"""


def connect(settings: Settings) -> psycopg.Connection[dict[str, Any]]:
    """Open a database connection whose rows are dicts."""
    return psycopg.connect(**settings.conninfo(), row_factory=dict_row)  # type: ignore[arg-type]


def redis_client(settings: Settings) -> redis.Redis:
    """Open a Redis client that returns str."""
    return redis.Redis.from_url(settings.redis_url, decode_responses=True, socket_timeout=3)


def migrate(conn: psycopg.Connection[Any]) -> None:
    """Create the schema; safe to run on every deploy."""
    with conn.transaction():
        conn.execute(SCHEMA)


def enqueue(conn: psycopg.Connection[dict[str, Any]], queue: redis.Redis, payload: str) -> dict[str, Any]:
    """Store a job and hand its id to the worker."""
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO jobs (payload) VALUES (%s) RETURNING id, payload, status, result",
            (payload,),
        ).fetchone()
    assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
    queue.lpush(QUEUE, row["id"])
    return row


def get_job(conn: psycopg.Connection[dict[str, Any]], job_id: int) -> dict[str, Any] | None:
    """Return one job, or None."""
    return conn.execute(
        "SELECT id, payload, status, result FROM jobs WHERE id = %s", (job_id,)
    ).fetchone()


def process_next(
    conn: psycopg.Connection[dict[str, Any]], queue: redis.Redis, timeout: float = 1.0
) -> int | None:
    """Take one job id off the queue and complete it; return its id, or None when idle."""
    item = queue.brpop([QUEUE], timeout=timeout)
    if item is None:
        return None
    job_id = int(item[1])
    with conn.transaction():
        conn.execute(
            "UPDATE jobs SET status = 'done', result = upper(payload), finished_at = now() "
            "WHERE id = %s",
            (job_id,),
        )
    return job_id
