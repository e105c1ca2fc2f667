from __future__ import annotations

from shipyard.core.errors import CommandFailed, Interrupted, ShipyardError


def test_render_message_details_tip() -> None:
    """ERROR line, indented details, TIP line."""
    error = ShipyardError("it broke", details="one\ntwo", tip="do this")
    assert error.render() == "ERROR: it broke\n    one\n    two\nTIP: do this"
    assert str(error) == error.render()
    assert error.exit_code == 1


def test_command_failed_shows_command_code_and_output() -> None:
    """Like pre-commit: command, return code, stdout, stderr (tails only)."""
    error = CommandFailed(
        ["docker", "compose", "up", "a b"],
        3,
        stdout="out\n",
        stderr="\n".join(f"e{i}" for i in range(30)),
        tip="look at the logs",
    )
    lines = error.render().splitlines()
    assert lines[:5] == [
        "ERROR: command failed: docker",
        "    command: docker compose up 'a b'",
        "    return code: 3",
        "    stdout:",
        "        out",
    ]
    assert lines[5] == "    stderr:"
    assert lines[6] == "        e10"
    assert lines[-2] == "        e29"
    assert lines[-1] == "TIP: look at the logs"
    assert error.exit_code == 3


def test_command_failed_exit_code_stays_in_range() -> None:
    """A negative (signal) or huge return code exits 1."""
    assert CommandFailed(["x"], -9).exit_code == 1
    assert CommandFailed(["x"], 300).exit_code == 1


def test_interrupted_exits_130() -> None:
    """Ctrl-C ends with the shell's conventional status."""
    assert Interrupted("stopped").exit_code == 130
