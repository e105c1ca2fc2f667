"""init's Python keeps to the wheels the real package index lists for a project's pins."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.adopt import pythons


def test_a_2023_pin_keeps_init_on_a_python_it_has_wheels_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # microblog's requirements.txt: multidict 6.0.4 has Linux wheels up to CPython 3.11,
    # so on 3.12 pip compiles it and the slim image has no compiler.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("PIP_NO_INDEX", raising=False)
    for name in ("PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "app"
    root.mkdir()
    (root / "requirements.txt").write_text("Flask==3.0.0\nmultidict==6.0.4\n", encoding="utf-8")

    limits = pythons.limits(root)

    assert limits == {"multidict 6.0.4": frozenset({"3.9", "3.10", "3.11"})}
    found = pythons.python_version(root, limits)
    assert (found.value, found.evidence) == (
        "3.11",
        "the newest of 3.9, 3.10, 3.11, 3.12, 3.13, 3.14 up to 3.12 allowed by "
        "the Linux wheels of multidict 6.0.4",
    )
    assert list((tmp_path / "cache").iterdir()) == [tmp_path / "cache" / "shipyard"]
