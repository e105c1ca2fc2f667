"""Unit tests, and one end-to-end test through the running orchestrator and reducer."""

from __future__ import annotations

import os

import httpx
import pytest
from starlette.testclient import TestClient

from orchestrator.api import app


def test_jobs_need_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_TOKEN", "a-token-for-tests")
    assert TestClient(app).post("/jobs", json={"values": [1]}).status_code == 401


def test_a_job_goes_through_the_running_stack() -> None:
    """docker-test started the orchestrator and the reducer: a job is summed by the reducer."""
    url = os.environ["ORCHESTRATOR_URL"] + "/jobs"
    headers = {"authorization": f"Bearer {os.environ['BRIDGE_TOKEN']}"}
    answer = httpx.post(url, json={"values": [1, 2, 39]}, headers=headers, timeout=10)
    assert answer.status_code == 200
    assert answer.json()["sum"] == 42
