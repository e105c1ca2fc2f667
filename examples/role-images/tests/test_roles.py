"""The roles' own tests; `nox -s docker-test` runs them inside the test image."""

from __future__ import annotations

import json
import os
import urllib.request
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from roles import api, generate


def test_api_health() -> None:
    assert TestClient(api.app).get("/health").json() == {"status": "ok", "role": "api"}


def test_pipelines_need_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_TOKEN", "t0ken-for-tests")
    client = TestClient(api.app)
    assert client.get("/pipelines").status_code == 401
    answer = client.get("/pipelines", headers={"authorization": "Bearer t0ken-for-tests"})
    assert answer.json() == {"pipelines": api.PIPELINES}


def test_generate_writes_one_manifest_per_package(tmp_path: Path) -> None:
    written = generate.generate(tmp_path / "out")
    assert [p.name for p in written] == ["codegen.json", "dbt_utils.json"]


def test_the_running_user_code_service_serves_its_packages() -> None:
    """Against the stack docker-test started: the user-code container bootstrapped its files."""
    url = os.environ["USER_CODE_URL"] + "/packages"
    with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 - the test stack
        assert json.load(answer) == {"packages": ["codegen", "dbt_utils"]}
