from __future__ import annotations

import gc
import os
import signal
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from typing import cast
from unittest.mock import Mock

import pytest
from invoke.config import Config
from invoke.context import Context, MockContext
from invoke.exceptions import CommandTimedOut as InvokeTimedOut
from invoke.runners import Result as InvokeResult

from shipyard.core.errors import (
    CommandFailed,
    CommandTimedOut,
    EngineError,
    Terminated,
    interrupt_exit_code,
)
from shipyard.core.process import (
    InvokeRunner,
    Result,
    SubprocessRunner,
    join,
    shielded,
    sigterm_as_interrupt,
)


@pytest.mark.usefixtures("real_processes")
def test_subprocess_runner_captures_and_passes_env() -> None:
    """Captured output comes back; extra env reaches the child."""
    runner = SubprocessRunner()
    result = runner.run(
        [sys.executable, "-c", "import os; print(os.environ['SY_X'])"],
        capture=True,
        env={"SY_X": "42"},
    )
    assert result == Result(
        (sys.executable, "-c", "import os; print(os.environ['SY_X'])"), 0, "42\n", ""
    )


BUILD_LOG = """\
#1 [internal] load build definition from Dockerfile
#1 DONE 0.0s
#7 [deps 2/3] RUN pip install -r requirements.txt
#7 1.204 Collecting flask==3.0.0
#7 DONE 9.1s

#9 [test 1/1] COPY . .
#9 ERROR: failed to compute cache key
Container demo-db-1 Started
"""


@pytest.mark.usefixtures("real_processes")
@pytest.mark.parametrize(
    ("brief", "shown"),
    [
        (False, BUILD_LOG),
        (
            True,
            "#7 [deps 2/3] RUN pip install -r requirements.txt\n#9 [test 1/1] COPY . .\n"
            "#9 ERROR: failed to compute cache key\nContainer demo-db-1 Started\n",
        ),
    ],
)
def test_a_brief_runner_shows_a_builds_steps_and_keeps_it_all(
    capfd: pytest.CaptureFixture[str], *, brief: bool, shown: str
) -> None:
    """For init's builds: step names and errors on the terminal, every line kept."""
    argv = [sys.executable, "-c", f"import sys; sys.stderr.write({BUILD_LOG!r})"]
    result = SubprocessRunner(echo=False, brief=brief).run(argv, tee=True)
    assert capfd.readouterr().err == shown
    assert result.stderr == BUILD_LOG


@pytest.mark.usefixtures("real_processes")
def test_subprocess_runner_raises_command_failed() -> None:
    """A non-zero exit raises with the command's output, unless check=False."""
    argv = [sys.executable, "-c", "import sys; print('bad', file=sys.stderr); sys.exit(3)"]
    runner = SubprocessRunner()
    with pytest.raises(CommandFailed) as caught:
        runner.run(argv, capture=True)
    assert (caught.value.returncode, caught.value.stderr) == (3, "bad\n")
    assert runner.run(argv, capture=True, check=False).returncode == 3


@pytest.mark.usefixtures("real_processes")
def test_missing_docker_is_an_engine_error() -> None:
    """No docker binary on PATH: say so, with how to install it."""
    runner = SubprocessRunner()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PATH", "/nonexistent")
        with pytest.raises(EngineError, match="'docker' was not found on PATH"):
            runner.run(["docker", "info"], capture=True)
        assert runner.run(["nosuchtool-xyz"], check=False).returncode == 127


def test_dry_subprocess_runner_prints_and_runs_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    """Dry: the exact command (with its env) is printed; nothing starts (no Popen here)."""
    result = SubprocessRunner(dry=True).run(
        ["docker", "build", "a b"], env={"DOCKER_BUILDKIT": "1"}
    )
    assert result == Result(("docker", "build", "a b"), 0)
    assert capsys.readouterr().err == "$ DOCKER_BUILDKIT=1 docker build 'a b'\n"


@pytest.mark.usefixtures("real_processes")
def test_dry_runner_still_runs_queries() -> None:
    """Read-only queries run even when dry, so dry output matches a real run."""
    result = SubprocessRunner(dry=True).run(
        [sys.executable, "-c", "print(1)"], capture=True, query=True
    )
    assert result.stdout == "1\n"


def test_invoke_runner_passes_the_exact_command() -> None:
    """Through invoke: a shell-quoted string with its env spelled out, echoed, no pty."""
    c = MockContext(run={"K='v w' docker compose up 'a b'": InvokeResult("done\n")})
    result = InvokeRunner(c).run(["docker", "compose", "up", "a b"], env={"K": "v w"})
    assert result == Result(("docker", "compose", "up", "a b"), 0, "done\n", "")
    cast("Mock", c.run).assert_called_once_with(
        "K='v w' docker compose up 'a b'",
        hide=False,
        echo=True,
        warn=True,
        echo_format="{command}",  # not a terminal: no bold
    )


@pytest.mark.parametrize(("tty", "no_color", "plain"), [(True, "", False), (True, "1", True)])
def test_the_echo_is_bold_only_on_a_terminal_without_no_color(
    monkeypatch: pytest.MonkeyPatch, tty: bool, no_color: str, plain: bool
) -> None:
    """Invoke echoes in bold; NO_COLOR (no-color.org) and pipes get the plain command."""
    monkeypatch.setattr(sys.stdout, "isatty", lambda: tty)
    monkeypatch.setenv("NO_COLOR", no_color)
    c = MockContext(run=InvokeResult(""), repeat=True)
    InvokeRunner(c).run(["docker", "ps"])
    assert ("echo_format" in cast("Mock", c.run).call_args.kwargs) is plain


def test_invoke_runner_queries_ignore_dry() -> None:
    """A query asks invoke to really run it, even under `inv --dry`."""
    c = MockContext(run={"docker ps": InvokeResult("x\n")})
    InvokeRunner(c).run(["docker", "ps"], capture=True, query=True)
    cast("Mock", c.run).assert_called_once_with(
        "docker ps", hide=True, echo=False, warn=True, dry=False
    )


def test_invoke_runner_raises_on_failure() -> None:
    """A failed command raises CommandFailed with what it printed."""
    c = MockContext(run={"false": InvokeResult(stdout="", stderr="nope", exited=2)})
    with pytest.raises(CommandFailed) as caught:
        InvokeRunner(c).run(["false"])
    assert (caught.value.returncode, caught.value.stderr) == (2, "nope")


def test_invoke_runner_reports_dry() -> None:
    """`inv --dry` sets run.dry in the config."""
    c = MockContext()
    assert not InvokeRunner(c).dry
    c.config.run.dry = True
    assert InvokeRunner(c).dry


def test_join_quotes_for_posix_shells() -> None:
    """Arguments with spaces or quotes survive the shell."""
    assert join(["echo", "a b", "it's"]) == "echo 'a b' 'it'\"'\"'s'"


@pytest.mark.usefixtures("real_processes")
def test_timeout_stops_the_command() -> None:
    """A command past its limit is stopped and reported as timed out."""
    with pytest.raises(CommandTimedOut) as caught:
        SubprocessRunner().run(
            [sys.executable, "-c", "import time; time.sleep(30)"], capture=True, timeout=0.5
        )
    assert caught.value.message.startswith("timed out after 0.5s: ")


def test_invoke_timeout_becomes_ours() -> None:
    """Invoke's CommandTimedOut is turned into shipyard's, with the argv."""
    c = MockContext(run=InvokeResult())
    cast("Mock", c.run).side_effect = InvokeTimedOut(InvokeResult(command="sleep 9"), timeout=2)
    with pytest.raises(CommandTimedOut) as caught:
        InvokeRunner(c).run(["sleep", "9"], timeout=2)
    assert caught.value.argv == ["sleep", "9"]
    assert cast("Mock", c.run).call_args.kwargs["timeout"] == 2


def test_sigterm_raises_terminated_inside_and_not_after() -> None:
    """SIGTERM unwinds like Ctrl-C (so finally blocks run) only while the guard is on."""

    def terminate_me() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)

    with sigterm_as_interrupt(), pytest.raises(Terminated):
        terminate_me()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert interrupt_exit_code(Terminated()) == 143
    assert interrupt_exit_code(KeyboardInterrupt()) == 130


@pytest.fixture
def ctrl_c_raises() -> Iterator[None]:
    """Ctrl-C raising KeyboardInterrupt whatever the suite inherited (nohup and `&` ignore it)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("ctrl_c_raises")
def test_shielded_ignores_ctrl_c_during_cleanup() -> None:
    """A second Ctrl-C during teardown is ignored, then the handler comes back."""
    with shielded():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.1)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and sh")
@pytest.mark.usefixtures("ctrl_c_raises", "real_processes")
def test_ctrl_c_during_a_command_is_an_interrupt_not_its_exit_status() -> None:
    """Invoke forwards Ctrl-C and waits; the command's own status (1) must not hide it."""
    # invoke leaves its pipes to the garbage collector, which may run at any point here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        runner = InvokeRunner(Context(Config(overrides={"run": {"in_stream": False}})))
        script = f"sleep 0.2; kill -INT {os.getpid()}; sleep 0.3; exit 1"
        with pytest.raises(KeyboardInterrupt):
            runner.run(["sh", "-c", script], capture=True)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back
        assert runner.run(["sh", "-c", "exit 0"], capture=True).ok  # and nothing left noticed
        del runner
        gc.collect()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signal dispositions")
@pytest.mark.usefixtures("real_processes")
def test_the_signal_tests_pass_with_ctrl_c_ignored() -> None:
    """Started under nohup or as a background job (SIGINT ignored), these tests still pass."""
    code = (
        "import signal, sys, pytest; signal.signal(signal.SIGINT, signal.SIG_IGN); "
        f"sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', {__file__!r}, "
        "'-k', 'not ctrl_c_ignored']))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stdout[-2000:]
