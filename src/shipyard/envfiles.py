"""Env files: read with python-dotenv's parser, layered, every value with its source.

Files are read, never exported into our own process (no ``load_dotenv``):
Compose gets them with ``--env-file``. The layers of environment ``<env>`` are
``env/.env.<env>`` then, if present, ``env/.env.<env>.local`` (personal,
git-ignored overrides); the later file wins, as with Compose's repeated
``--env-file``.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass
from pathlib import Path

from dotenv.parser import parse_stream

from shipyard.config import Stack
from shipyard.errors import EnvFileError

EXAMPLE = ".env.example"


@dataclass(frozen=True)
class EnvValue:
    """One variable's value and where it was set."""

    key: str
    value: str | None
    path: Path
    line: int

    @property
    def source(self) -> str:
        """Return ``file:line``."""
        return f"{self.path}:{self.line}"


def read_env_file(path: Path) -> dict[str, EnvValue]:
    """Parse ``path``; every line that does not parse is reported with its number.

    A UTF-8 byte-order mark and CRLF line endings (Windows editors) are accepted;
    ``export KEY=value`` is accepted as shells write it.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise EnvFileError(f"env file {path} does not exist", tip="create it") from None
    except UnicodeDecodeError as exc:
        raise EnvFileError(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})",
            tip="save the file as UTF-8",
        ) from None
    values: dict[str, EnvValue] = {}
    errors: list[str] = []
    for binding in parse_stream(io.StringIO(text)):
        # The parser counts from the blank lines it swallows before a binding.
        raw = binding.original.string
        line = binding.original.line + raw[: len(raw) - len(raw.lstrip())].count("\n")
        if binding.error:
            snippet = binding.original.string.strip()[:60]
            errors.append(f"{path}:{line}: cannot parse {snippet!r}")
        elif binding.key is not None:
            values[binding.key] = EnvValue(binding.key, binding.value, path, line)
    if errors:
        raise EnvFileError(
            f"{path} has {len(errors)} line(s) that are not KEY=value",
            details="\n".join(errors),
            tip="write each line as KEY=value (quote values with spaces; close every quote)",
        )
    return values


def layer_files(stack: Stack, env: str) -> list[Path]:
    """Return the env files of ``env`` that exist, in the order Compose should read them."""
    base = stack.env_dir / f".env.{env}"
    local = stack.env_dir / f".env.{env}.local"
    return [p for p in (base, local) if p.is_file()]


def layered(paths: list[Path]) -> dict[str, EnvValue]:
    """Merge ``paths`` in order (later wins), keeping the source of each value."""
    merged: dict[str, EnvValue] = {}
    for path in paths:
        merged.update(read_env_file(path))
    return merged


def ensure_env_file(stack: Stack, env: str, *, dry: bool = False) -> tuple[Path, str | None]:
    """Make sure ``env/.env.<env>`` exists; return it and a notice if it was created.

    A missing file is created from ``env/.env.example`` (the contract) unless
    the environment has a template of its own (``env/.env.<env>.example``,
    as prod does): that one must be filled in by a person, never copied blindly.
    """
    stack.check_env(env)
    target = stack.env_dir / f".env.{env}"
    if target.is_file():
        return target, None
    own_template = stack.env_dir / f".env.{env}.example"
    if own_template.is_file():
        raise EnvFileError(
            f"{target} does not exist",
            tip=f"copy {own_template} to {target} and replace every placeholder in it",
        )
    example = stack.env_dir / EXAMPLE
    if not example.is_file():
        raise EnvFileError(
            f"{target} does not exist, and there is no {example} to create it from",
            tip=f"create {target} with KEY=value lines for the stack's variables",
        )
    read_env_file(example)  # a broken contract is reported before it is copied
    if not dry:
        shutil.copyfile(example, target)
        target.chmod(0o600)
    return target, f"created {target} from {example}: edit it to change local settings"
