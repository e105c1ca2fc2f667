from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shipyard.env.explain import Candidate, explain, references, to_json, to_text

BASE = """\
services:
  api:
    image: demo:dev
    environment:
      DB_HOST: db
      DB_USER: ${DB_USER:?set it}
      DB_PASSWORD: ${DB_PASSWORD:?set it}
      LOG_LEVEL: ${LOG_LEVEL:-info}
      HOME_DIR:
"""
OVERLAY = """\
services:
  api:
    environment:
      DB_HOST: db-dev
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "base": tmp_path / "compose/docker-compose.yml",
        "overlay": tmp_path / "compose/docker-compose.dev.yml",
        "example": tmp_path / "env/.env.example",
        "env": tmp_path / "env/.env.dev",
        "local": tmp_path / "env/.env.dev.local",
    }
    for path in paths.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    paths["base"].write_text(BASE)
    paths["overlay"].write_text(OVERLAY)
    paths["example"].write_text("DB_USER=demo\n# @secret\nDB_PASSWORD=x\nLOG_LEVEL=info\n")
    paths["env"].write_text("DB_USER=alice\nDB_PASSWORD=s3cr3t-value-123\n")
    paths["local"].write_text("DB_USER=bob\n")
    return paths


def run(files: dict[str, Path], resolved: dict[str, Any], shell: dict[str, str]) -> dict[str, Any]:
    rows = explain(
        service_models={"api": {"image": "demo:dev", "environment": resolved}},
        compose_files=[files["base"], files["overlay"]],
        env_files=[files["env"], files["local"]],
        contract_dir=files["example"].parent,
        shell=shell,
        image_env={"demo:dev": ["PATH=/usr/bin", "DB_HOST=from-image", "API_TOKEN=abc"]},
    )
    return {row.key: row for row in rows}


RESOLVED = {
    "DB_HOST": "db-dev",
    "DB_USER": "bob",
    "DB_PASSWORD": "s3cr3t-value-123",
    "LOG_LEVEL": "info",
    "HOME_DIR": "/home/me",
}


def test_sources_in_composes_order(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Literal from the overlay; later env file over earlier; default; shell pass-through; image ENV."""
    monkeypatch.chdir(files["base"].parent.parent)
    rows = run(files, RESOLVED, {"HOME_DIR": "/home/me"})
    assert rows["DB_HOST"].source == "environment in compose/docker-compose.dev.yml (literal)"
    assert (
        rows["DB_USER"].source
        == "environment in compose/docker-compose.yml <- DB_USER from env/.env.dev.local:1"
    )
    assert rows["DB_USER"].chain == (
        Candidate("the shell", None),
        Candidate("env/.env.dev.local:1", "bob", wins=True),
        Candidate("env/.env.dev:1", "alice"),
    )
    assert rows["LOG_LEVEL"].source == (
        "environment in compose/docker-compose.yml <- LOG_LEVEL from the default in the compose file"
    )
    assert (
        rows["HOME_DIR"].source
        == "environment in compose/docker-compose.yml, passed through from the shell"
    )
    assert rows["PATH"].source == "ENV in the image demo:dev"
    assert "DB_HOST" in rows  # the image's DB_HOST lost to compose's and is not listed twice
    assert rows["DB_HOST"].value == "db-dev"


def test_the_shell_wins_over_env_files(files: dict[str, Path]) -> None:
    """An exported variable beats every --env-file, as in Compose."""
    rows = run(files, {**RESOLVED, "DB_USER": "carol"}, {"DB_USER": "carol"})
    assert rows["DB_USER"].source.endswith("<- DB_USER from the shell")
    assert [c.wins for c in rows["DB_USER"].chain] == [True, False, False]


def test_secrets_are_redacted_everywhere(files: dict[str, Path]) -> None:
    """@secret keys and secret-looking names never show their value, in text or JSON."""
    rows = run(files, RESOLVED, {})
    assert rows["DB_PASSWORD"].secret
    assert rows["DB_PASSWORD"].value == "<redacted, 16 chars>"
    assert rows["API_TOKEN"].value == "<redacted, 3 chars>"
    out = to_json("dev", list(rows.values())) + to_text(list(rows.values()), key="DB_PASSWORD")
    assert "s3cr3t" not in out
    assert '"abc"' not in to_json("dev", [rows["API_TOKEN"]])
    assert json.loads(to_json("dev", [rows["DB_HOST"]])) == {
        "env": "dev",
        "variables": [
            {
                "service": "api",
                "key": "DB_HOST",
                "value": "db-dev",
                "secret": False,
                "source": rows["DB_HOST"].source,
                "chain": [],
            }
        ],
    }


@pytest.mark.parametrize(
    ("template", "refs"),
    [
        ("${A}", [("A", None, "")]),
        ("${A:?msg here}", [("A", ":?", "msg here")]),
        ("x-${A:-d}-$B", [("A", ":-", "d"), ("B", None, "")]),
        ("$$NOT ${C-x}", [("C", "-", "x")]),
        ("plain", []),
    ],
)
def test_references(template: str, refs: list[tuple[str, str | None, str]]) -> None:
    """Compose interpolation syntax, `$$` escapes included."""
    assert references(template) == refs
