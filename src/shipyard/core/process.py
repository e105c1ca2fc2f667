"""The one subprocess door: everything that runs a process goes through a Runner.

Library code never calls ``subprocess`` or ``invoke`` itself: it receives a
Runner, so the edges choose how commands run (really, dry, or through invoke's
Context, which makes ``inv --dry`` and ``MockContext`` work) and tests pass
fakes instead of patching.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol

from invoke.exceptions import CommandTimedOut as InvokeTimedOut
from invoke.runners import Local

from shipyard.core.errors import CommandFailed, CommandTimedOut, EngineError, Terminated

if TYPE_CHECKING:
    from invoke.context import Context

NOT_FOUND = 127
TEE_LINES = 4000  # of a teed command's stderr, kept to explain its failure
# BuildKit's plain progress: every line of a step starts "#N "; its first names it
# ("#8 [deps 3/4] RUN pip install ..."). A brief runner shows those and errors.
BUILDKIT_LINE = re.compile(r"^#\d+ ")
BUILDKIT_SHOWN = re.compile(r"^#\d+ (\[(?!internal\])|ERROR)")


def color() -> bool:
    """Tell whether output may use color: a terminal, and no ``NO_COLOR`` (no-color.org)."""
    return not os.environ.get("NO_COLOR") and sys.stdout.isatty()


def join(argv: Sequence[str]) -> str:
    """Quote ``argv`` for the platform shell that invoke runs commands through."""
    if os.name == "nt":
        return subprocess.list2cmdline(argv)
    return shlex.join(argv)


@dataclass(frozen=True)
class Result:
    """What a finished command left behind (output only when captured)."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str = ""
    stderr: str = ""

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.returncode == 0


class Runner(Protocol):
    """Runs argv lists; ``dry`` runners print commands instead of running them."""

    @property
    def dry(self) -> bool:
        """True when commands are printed, not run."""
        ...

    def run(
        self,
        argv: Sequence[str],
        *,
        capture: bool = False,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        interactive: bool = False,
        query: bool = False,
        timeout: float | None = None,
        tee: bool = False,
        cwd: Path | None = None,
    ) -> Result:
        """Run ``argv``; raise CommandFailed on a non-zero exit when ``check``.

        ``capture`` returns the output instead of streaming it. ``query`` marks
        a read-only command (``ps``, ``inspect``, ``git rev-parse``): it runs
        even when ``dry``, so a dry run prints exactly the commands a real run
        would. ``timeout`` stops the command and raises CommandTimedOut.
        ``tee`` streams stderr and also keeps it in the result (a build's log,
        read to explain its failure). ``cwd`` runs it in that folder.
        """
        ...


def _not_found(command: tuple[str, ...], *, check: bool) -> Result:
    """Answer a command that could not start: docker's absence is the engine's problem.

    Only when the program itself is missing: a 127 from a command docker ran
    (``compose run app sometool``) is that command's, not docker's.
    """
    if command[0] in {"docker", "docker-compose"}:
        raise EngineError(
            f"'{command[0]}' was not found on PATH",
            tip="install Docker Desktop (macOS, Windows) or Docker Engine with the "
            "Compose plugin (Linux), then open a new shell",
        )
    return _checked(Result(command, NOT_FOUND), check=check)


def _checked(result: Result, *, check: bool) -> Result:
    if check and not result.ok:
        raise CommandFailed(
            result.argv, result.returncode, stdout=result.stdout, stderr=result.stderr
        )
    return result


class SubprocessRunner:
    """Runs commands with :mod:`subprocess`; output streams unless captured."""

    def __init__(self, *, echo: bool = True, dry: bool = False, brief: bool = False) -> None:
        """``echo`` prints each streamed command before it runs, like make.

        ``brief`` shows a teed build's step names and errors, not its every line
        (all of them are still kept to explain a failure): for ``shipyard init``.
        """
        self.echo = echo
        self._dry = dry
        self.brief = brief

    @property
    def dry(self) -> bool:
        """True when commands are printed, not run."""
        return self._dry

    def run(
        self,
        argv: Sequence[str],
        *,
        capture: bool = False,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        interactive: bool = False,  # noqa: ARG002 - inherited stdio is already interactive
        query: bool = False,
        timeout: float | None = None,
        tee: bool = False,
        cwd: Path | None = None,
    ) -> Result:
        """Run ``argv`` with the given extra environment."""
        command = tuple(argv)
        dry = self._dry and not query
        if dry or (self.echo and not capture):
            prefix = "".join(f"{k}={v} " for k, v in (env or {}).items())
            where = f"cd {shlex.quote(str(cwd))} && " if cwd else ""
            print(f"$ {where}{prefix}{join(command)}", file=sys.stderr, flush=True)  # noqa: T201 - the echo
        if dry:
            return Result(command, 0)
        full_env = {**os.environ, **env} if env else None
        if tee and not capture and timeout is None:
            return self._teed(command, full_env, check=check, cwd=cwd, brief=self.brief)
        try:
            done = subprocess.run(
                command,
                cwd=cwd,
                env=full_env,
                capture_output=capture,
                text=True,
                encoding="utf-8",
                errors="replace",
                check=False,
                timeout=timeout,
            )
        except FileNotFoundError:
            return _not_found(command, check=check)
        except subprocess.TimeoutExpired:
            raise CommandTimedOut(command, timeout or 0) from None
        return _checked(
            Result(command, done.returncode, done.stdout or "", done.stderr or ""), check=check
        )

    @staticmethod
    def _teed(
        command: tuple[str, ...],
        env: Mapping[str, str] | None,
        *,
        check: bool,
        cwd: Path | None = None,
        brief: bool = False,
    ) -> Result:
        """Run ``command`` with its stderr shown as it comes and kept (the last lines)."""
        kept: deque[str] = deque(maxlen=TEE_LINES)
        try:
            with subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stderr=subprocess.PIPE,
                text=True,
                encoding="utf-8",
                errors="replace",
            ) as process:
                for line in process.stderr or ():
                    noise = not line.strip() or (
                        BUILDKIT_LINE.match(line) and not BUILDKIT_SHOWN.match(line)
                    )
                    if not (brief and noise):
                        sys.stderr.write(line)
                        sys.stderr.flush()
                    kept.append(line)
                returncode = process.wait()
        except FileNotFoundError:
            return _not_found(command, check=check)
        return _checked(Result(command, returncode, "", "".join(kept)), check=check)


class SignalForwardingLocal(Local):
    """invoke's local runner, passing Ctrl-C and SIGTERM on to the command as signals.

    invoke forwards an interrupt by writing Ctrl-C (0x03) to the command's stdin,
    which reaches nothing without a terminal and fails (ValueError) when stdin
    is closed, as in CI; a signal reaches the command either way.

    A captured command (a query: ``docker image inspect``) is looked at every
    2 ms, not invoke's 10, which made each end up to 20 ms after itself; what
    streams (a build, ``up``) keeps invoke's pace.
    """

    def wait(self) -> None:
        """Wait for the command to end (see the class's note on the pace)."""
        if self.opts.get("hide"):
            self.input_sleep = 0.002
        super().wait()

    def send_interrupt(self, interrupt: KeyboardInterrupt) -> None:
        """Signal the command as this process was signalled."""
        if os.name == "nt":  # pragma: no cover - no POSIX signals to forward
            with suppress(OSError, ValueError):
                super().send_interrupt(interrupt)
            return
        with suppress(ProcessLookupError):  # it already ended
            self.process.send_signal(
                signal.SIGTERM if isinstance(interrupt, Terminated) else signal.SIGINT
            )


class InvokeRunner:
    """Runs commands through an invoke Context, so ``inv --dry`` and MockContext work.

    Never asks for a pty on Windows (there is none); elsewhere only for
    interactive commands on a terminal.
    """

    def __init__(self, context: Context) -> None:
        """Wrap ``context``; its commands get Ctrl-C and SIGTERM as signals."""
        self.context = context
        runners = context.config.runners
        if runners.local is Local:
            runners.local = SignalForwardingLocal

    @property
    def dry(self) -> bool:
        """True under ``inv --dry``."""
        return bool(self.context.config.run.dry)

    def run(
        self,
        argv: Sequence[str],
        *,
        capture: bool = False,
        check: bool = True,
        env: Mapping[str, str] | None = None,
        interactive: bool = False,
        query: bool = False,
        timeout: float | None = None,
        tee: bool = False,  # noqa: ARG002 - invoke shows and keeps the output always
        cwd: Path | None = None,
    ) -> Result:
        """Run ``argv`` via ``context.run`` with an exactly quoted command string."""
        command = tuple(argv)
        options: dict[str, object] = {"hide": capture, "echo": not capture, "warn": True}
        if not capture and not color():
            options["echo_format"] = "{command}"  # invoke's own is bold, always
        if interactive and os.name != "nt" and sys.stdin.isatty():
            options["pty"] = True
        line = join(command)
        if env and os.name != "nt":
            # Spelled out in the command, so what `inv --dry` prints runs as it is.
            line = (
                " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items()) + " " + line
            )
        elif env:
            options["env"] = dict(env)
        if query:
            options["dry"] = False
        if timeout is not None:
            options["timeout"] = timeout
        try:
            with interrupts_noticed() as noticed, self.context.cd(str(cwd) if cwd else ""):
                done = self.context.run(line, **options)
        except InvokeTimedOut:
            raise CommandTimedOut(command, timeout or 0) from None
        if noticed:  # invoke forwards Ctrl-C and waits: the exit status would hide it
            raise noticed[0]
        if done is None:  # invoke returns None only when disowned; never here
            return Result(command, 0)
        return _checked(
            Result(command, done.exited, done.stdout or "", done.stderr or ""), check=check
        )


@contextmanager
def interrupts_noticed() -> Iterator[list[KeyboardInterrupt]]:
    """Record Ctrl-C (and SIGTERM, when it raises Terminated) that arrive while a command runs.

    invoke catches the KeyboardInterrupt, forwards it to the command and waits;
    the command then exits with a status of its own (a cancelled BuildKit
    build: 1), so the edge needs the record to end with 130 or 143. The
    handlers in place still run; an ignored signal stays ignored.
    """
    noticed: list[KeyboardInterrupt] = []
    if threading.current_thread() is not threading.main_thread():
        yield noticed
        return
    previous: dict[signal.Signals, Callable[[int, FrameType | None], Any]] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        handler = signal.getsignal(sig)
        if not callable(handler):  # SIG_IGN, SIG_DFL: nothing raises, nothing to notice
            continue
        previous[sig] = handler

        def notice(
            signum: int, frame: FrameType | None, handler: Callable[..., Any] = handler
        ) -> None:
            try:
                handler(signum, frame)
            except KeyboardInterrupt as exc:
                noticed.append(exc)
                raise

        signal.signal(sig, notice)
    try:
        yield noticed
    finally:
        for sig, restored in previous.items():
            signal.signal(sig, restored)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` so a run's teardown still happens."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Terminated(signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def shielded() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM while cleaning up, so a second one cannot leave leftovers."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def spawn_detached(argv: Sequence[str], log: Path) -> int:
    """Start ``argv`` in a session of its own, outliving this process; return its pid.

    No terminal reaches it (Ctrl-C in the shell that started it, the shell
    closing); its output goes to ``log``. The one process shipyard leaves
    running: the keeper of a kept test stack.
    """
    options: dict[str, Any]
    if sys.platform == "win32":  # pragma: no cover - no sessions: a detached process group
        options = {
            "creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.DETACHED_PROCESS
        }
    else:
        options = {"start_new_session": True}
    with log.open("ab") as out:
        process = subprocess.Popen(
            list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=out, **options
        )
    return process.pid
