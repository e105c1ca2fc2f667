from __future__ import annotations

from starlette.testclient import TestClient

from reducer.api import app, reduce_values


def test_reduce_values() -> None:
    assert reduce_values([1, 2, 3.5]) == 6.5


def test_reduce_endpoint_rejects_bad_input() -> None:
    client = TestClient(app)
    assert client.post("/reduce", json={"values": "x"}).status_code == 422
    assert client.post("/reduce", json={"values": [2, 3]}).json()["sum"] == 5
