"""A scripted Runner for unit tests: records every command, answers from a script."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.core.errors import CommandFailed
from shipyard.core.process import Result

Script = Callable[[list[str]], tuple[Any, ...]]


@dataclass
class Call:
    """One command the fake runner was asked to run."""

    argv: list[str]
    options: dict[str, Any]


@dataclass
class FakeRunner:
    """A Runner that records commands and answers from a script (default: exit 0, no output)."""

    script: Script | None = None
    dry: bool = False
    calls: list[Call] = field(default_factory=list)

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
        command = list(argv)
        self.calls.append(
            Call(
                command,
                {
                    "capture": capture,
                    "check": check,
                    "env": dict(env or {}),
                    "interactive": interactive,
                    "query": query,
                    "timeout": timeout,
                    "tee": tee,
                    "cwd": cwd,
                },
            )
        )
        if self.dry and not query:
            return Result(tuple(command), 0)
        answer = self.script(command) if self.script else (0, "")
        code, out = answer[0], answer[1]
        err = answer[2] if len(answer) > 2 else ""
        if check and code:
            raise CommandFailed(command, code, stdout=out, stderr=err)
        return Result(tuple(command), code, out, err)

    @property
    def argvs(self) -> list[list[str]]:
        return [call.argv for call in self.calls]
