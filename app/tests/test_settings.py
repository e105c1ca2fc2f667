"""Settings come from the environment, or from files named by ``<KEY>_FILE`` (Swarm secrets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.settings import Settings


def test_password_from_a_file_wins_over_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "POSTGRES_PASSWORD"
    secret.write_text("from-the-file\n", encoding="utf-8")
    monkeypatch.setenv("POSTGRES_PASSWORD", "from-the-variable")
    monkeypatch.setenv("POSTGRES_PASSWORD_FILE", str(secret))

    assert Settings.from_env().postgres_password == "from-the-file"


def test_password_from_the_variable_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POSTGRES_PASSWORD_FILE", raising=False)
    monkeypatch.setenv("POSTGRES_PASSWORD", "from-the-variable")

    assert Settings.from_env().postgres_password == "from-the-variable"
