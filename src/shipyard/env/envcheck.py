"""env-check: an environment's env files against the contract in env/.env.example.

Rules, each reported once per occurrence with ``file:line`` where there is one:

- ``malformed``: a line that is not KEY=value;
- ``duplicate``: a key set twice in one file (the last one wins, silently);
- ``missing``: a key of the contract that no layer sets;
- ``unknown``: a key the contract does not have (a typo?) unless allowed in
  ``env-extra-keys``;
- ``placeholder``: in a strict environment (``strict-envs``, default prod and
  ci), a ``@secret`` key that is empty, looks like a placeholder, or is the
  example's own value;
- ``not-ignored``: a file holding secret values that git does not ignore
  (environments in ``committed-envs``, default ci, are committed on purpose);
- ``port``: a ``*PORT`` value that is not a number from 1 to 65535 (Compose
  would say only "invalid hostPort").
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from shipyard.core.config import Stack
from shipyard.core.errors import ShipyardError
from shipyard.core.workspace import IgnoredBy, display_path
from shipyard.env.envfiles import EXAMPLE, EnvValue, ParsedEnv, layer_files, parse_env_file

PLACEHOLDER_WORDS = (
    "changeme",
    "change-me",
    "change_me",
    "your_",
    "your-",
    "replace",
    "placeholder",
    "example",
    "secret",
    "password",
    "default",
    "todo",
    "xxx",
    "not-a-real",
    "dummy",
)
MIN_SECRET_LENGTH = 12


@dataclass(frozen=True)
class Problem:
    """One broken rule, where it is, and what it is."""

    rule: str
    where: str
    message: str

    def __str__(self) -> str:
        """Return ``where: message``."""
        return f"{self.where}: {self.message}"


class EnvCheckFailed(ShipyardError):
    """An environment's env files break the contract."""


def placeholder_reason(value: str | None, example: str | None) -> str | None:
    """Say why ``value`` is not a usable secret, or None when it is one."""
    if not value:
        return "is empty"
    lowered = value.lower()
    if value == example:
        return "is the example's own value"
    if "<" in value and ">" in value:
        return "is a <placeholder>"
    word = next((w for w in PLACEHOLDER_WORDS if w in lowered), None)
    if word:
        return f"looks like a placeholder (contains {word!r})"
    if len(value) < MIN_SECRET_LENGTH:
        return f"is shorter than {MIN_SECRET_LENGTH} characters"
    return None


def _at(parsed: ParsedEnv, line: int) -> str:
    return f"{display_path(parsed.path)}:{line}"


def _file_problems(parsed: ParsedEnv) -> list[Problem]:
    problems = [
        Problem(
            "malformed",
            error.split(": ", 1)[0].replace(str(parsed.path), display_path(parsed.path)),
            error.split(": ", 1)[1] + " (write it as KEY=value)",
        )
        for error in parsed.errors
    ]
    problems += [
        Problem(
            "duplicate",
            _at(parsed, again),
            f"{key} is set again (first at line {first}; the last one wins): keep one",
        )
        for key, first, again in parsed.duplicates
    ]
    return problems


Merged = dict[str, tuple[ParsedEnv, EnvValue]]
# What breaks Compose's reading of the files (the rest: warnings of shipyard's own).
BEFORE_COMPOSE = frozenset({"malformed", "missing", "port"})
PORT_KEY = re.compile(r"(?:^|_)PORT$")
MAX_PORT = 65535


def _port_problems(merged: Merged) -> list[Problem]:
    """Return a problem for each port variable whose value is not a port number."""
    problems = []
    for key, (parsed, value) in merged.items():
        text = (value.value or "").strip()
        if not PORT_KEY.search(key) or not text or "${" in text:
            continue
        if not text.isdigit() or not 1 <= int(text) <= MAX_PORT:
            problems.append(
                Problem(
                    "port",
                    _at(parsed, value.line),
                    f"{key}={text} is not a port: write a number from 1 to {MAX_PORT}",
                )
            )
    return problems


def _contract_problems(
    stack: Stack, contract: ParsedEnv, files: list[Path], merged: Merged
) -> list[Problem]:
    problems = [
        Problem(
            "missing",
            display_path(files[0]),
            f"{key} is missing (the contract has it at line {value.line}): add it",
        )
        for key, value in contract.values.items()
        if key not in merged
    ]
    allowed = set(contract.values) | set(stack.env_extra_keys)
    for key, (parsed, value) in merged.items():
        if key not in allowed:
            close = difflib.get_close_matches(key, list(contract.values), n=1)
            hint = (
                f"did you mean {close[0]}?"
                if close
                else "add it to env/.env.example, or to env-extra-keys"
            )
            problems.append(
                Problem("unknown", _at(parsed, value.line), f"{key} is not in the contract: {hint}")
            )
    return problems


def _secret_problems(
    stack: Stack,
    env: str,
    contract: ParsedEnv,
    layers: list[ParsedEnv],
    merged: Merged,
    ignored: IgnoredBy,
) -> list[Problem]:
    problems = []
    if env in stack.strict_envs:
        for key in sorted(contract.secrets & merged.keys()):
            parsed, value = merged[key]
            reason = placeholder_reason(value.value, contract.values[key].value)
            if reason:
                problems.append(
                    Problem(
                        "placeholder",
                        _at(parsed, value.line),
                        f"secret {key} {reason}: set a real value "
                        f"('inv env-init --env {env} --force' generates them)",
                    )
                )
    if env not in stack.committed_envs:
        for parsed in layers:
            holds = sorted(
                k for k in contract.secrets if k in parsed.values and parsed.values[k].value
            )
            if holds and ignored(parsed.path) is False:
                problems.append(
                    Problem(
                        "not-ignored",
                        display_path(parsed.path),
                        f"holds secrets ({', '.join(holds)}) but git does not ignore it: "
                        "add it to .gitignore",
                    )
                )
    return problems


def check_environment(stack: Stack, env: str, *, ignored: IgnoredBy) -> list[Problem]:
    """Return every problem of ``env``'s env files (empty when all rules pass)."""
    stack.check_env(env)
    example = stack.env_dir / EXAMPLE
    if not example.is_file():
        return [
            Problem(
                "missing",
                display_path(example),
                "the contract does not exist: create it with every KEY=value the stack reads",
            )
        ]
    contract = parse_env_file(example)
    files = layer_files(stack, env)
    if not files:
        target = display_path(stack.env_dir / f".env.{env}")
        return [Problem("missing", target, f"does not exist: run 'inv env-init --env {env}'")]
    layers = [parse_env_file(path) for path in files]
    merged: Merged = {
        key: (parsed, value) for parsed in layers for key, value in parsed.values.items()
    }
    return [
        *(problem for parsed in layers for problem in _file_problems(parsed)),
        *_contract_problems(stack, contract, files, merged),
        *_port_problems(merged),
        *_secret_problems(stack, env, contract, layers, merged, ignored),
    ]


def raise_for(env: str, problems: list[Problem]) -> None:
    """Raise EnvCheckFailed listing ``problems``, if there are any."""
    if problems:
        raise EnvCheckFailed(
            f"{len(problems)} problem(s) in the {env} env files",
            details="\n".join(str(p) for p in problems),
            tip=f"fix each line above, then run 'inv env-check --env {env}'",
        )
