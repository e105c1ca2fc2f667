"""The database: connection from POSTGRES_* variables, the runs table, scheduling and claiming."""

from __future__ import annotations

import os

import psycopg

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id SERIAL PRIMARY KEY,
    status TEXT NOT NULL DEFAULT 'scheduled',
    created TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished TIMESTAMPTZ
)
"""


def connect(timeout: float = 3) -> psycopg.Connection:
    return psycopg.connect(
        host=os.environ.get("POSTGRES_HOST", "db"),
        user=os.environ["POSTGRES_USER"],
        password=os.environ["POSTGRES_PASSWORD"],
        dbname=os.environ["POSTGRES_DB"],
        connect_timeout=max(1, int(timeout)),
        autocommit=True,
    )


def ensure_schema(conn: psycopg.Connection) -> None:
    conn.execute("SELECT pg_advisory_lock(42)")  # replicas start together: one creates it
    try:
        conn.execute(SCHEMA)
    finally:
        conn.execute("SELECT pg_advisory_unlock(42)")


def schedule(conn: psycopg.Connection) -> int:
    row = conn.execute("INSERT INTO runs DEFAULT VALUES RETURNING id").fetchone()
    assert row is not None
    return int(row[0])


def claim_and_finish(conn: psycopg.Connection) -> int | None:
    """Finish one scheduled run; replicas never take the same one (SKIP LOCKED)."""
    row = conn.execute(
        "UPDATE runs SET status = 'done', finished = now() WHERE id = ("
        " SELECT id FROM runs WHERE status = 'scheduled' ORDER BY id"
        " FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING id"
    ).fetchone()
    return int(row[0]) if row else None


def counts(conn: psycopg.Connection) -> dict[str, int]:
    rows = conn.execute("SELECT status, count(*) FROM runs GROUP BY status").fetchall()
    return {str(status): int(n) for status, n in rows}
