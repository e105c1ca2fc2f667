"""The HTTP API: health, and jobs that the worker completes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import redis
from fastapi import Depends, FastAPI, HTTPException, Response, status
from pydantic import BaseModel

from demo import store
from demo.settings import Settings

app = FastAPI(title="demo")


class JobIn(BaseModel):
    """What a client sends to create a job."""

    payload: str


class JobOut(BaseModel):
    """A job as the API returns it."""

    id: int
    payload: str
    status: str
    result: str | None


def settings() -> Settings:
    """Settings, read per request so tests can point the app elsewhere."""
    return Settings.from_env()


def db(cfg: Settings = Depends(settings)) -> Iterator[psycopg.Connection[dict[str, Any]]]:  # noqa: B008
    """A connection for the length of one request."""
    with store.connect(cfg) as conn:
        yield conn


def queue(cfg: Settings = Depends(settings)) -> Iterator[redis.Redis]:  # noqa: B008
    """A Redis client for the length of one request."""
    client = store.redis_client(cfg)
    try:
        yield client
    finally:
        client.close()


@app.get("/health")
def health(response: Response, cfg: Settings = Depends(settings)) -> dict[str, str]:  # noqa: B008
    """Report whether the database and Redis answer; 503 when either does not."""
    checks: dict[str, str] = {}
    try:
        with store.connect(cfg) as conn:
            conn.execute("SELECT 1")
        checks["database"] = "ok"
    except psycopg.Error as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        client = store.redis_client(cfg)
        client.ping()
        client.close()
        checks["redis"] = "ok"
    except redis.RedisError as exc:
        checks["redis"] = f"error: {exc.__class__.__name__}"
    healthy = all(v == "ok" for v in checks.values())
    response.status_code = status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "ok" if healthy else "degraded", **checks}


@app.post("/jobs", status_code=status.HTTP_201_CREATED)
def create_job(
    job: JobIn,
    conn: psycopg.Connection[dict[str, Any]] = Depends(db),  # noqa: B008
    client: redis.Redis = Depends(queue),  # noqa: B008
) -> JobOut:
    """Queue a job for the worker."""
    return JobOut(**store.enqueue(conn, client, job.payload))


@app.get("/jobs/{job_id}")
def read_job(job_id: int, conn: psycopg.Connection[dict[str, Any]] = Depends(db)) -> JobOut:  # noqa: B008
    """Return a job and, once the worker is done, its result."""
    row = store.get_job(conn, job_id)
    if row is None:
        raise HTTPException(status_code=404, detail=f"no job {job_id}")
    return JobOut(**row)
