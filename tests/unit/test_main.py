from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.__main__ import main


def test_user_mistake_is_an_error_line_and_a_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Outside a project: ERROR and TIP, exit 1, no traceback."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    monkeypatch.chdir(tmp_path)
    assert main(["gc", "--dry"]) == 1
    assert capsys.readouterr().err == (
        f"ERROR: no compose/docker-compose.yml under {tmp_path}\n"
        "TIP: run shipyard from the project folder, or set compose-dir in [tool.shipyard]\n"
    )


def test_verify_before_init_says_to_run_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Verify in a project init has not adopted: ERROR and a TIP naming init, exit 1."""
    (tmp_path / "app.py").write_text("x = 1\n")
    assert main(["verify", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        f"ERROR: nothing to verify in {tmp_path}: shipyard init has not written compose/ there\n"
        f"TIP: run 'shipyard init {tmp_path}' (it verifies as it ends)\n"
    )


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown command is argparse's usage error."""
    with pytest.raises(SystemExit) as caught:
        main(["deploy"])
    assert caught.value.code == 2
    assert "invalid choice: 'deploy'" in capsys.readouterr().err


def test_an_unexpected_exception_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A crash inside shipyard (here: `project` that is not a table) says it is a bug, in one line."""
    (tmp_path / "pyproject.toml").write_text('project = "not a table"\n')
    assert main(["init", str(tmp_path), "--dry-run"]) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("ERROR: shipyard failed unexpectedly (AttributeError: ")
    saved = Path(err.split("the traceback is in ")[1].split(":")[0])
    assert "Traceback (most recent call last)" in saved.read_text()
    saved.unlink()
