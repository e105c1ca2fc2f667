"""Env files: read with python-dotenv's parser, layered, every value with its source.

Files are read, never exported into our own process (no ``load_dotenv``):
Compose gets them with ``--env-file``. The layers of environment ``<env>`` are
``env/.env.<env>`` then, if present, ``env/.env.<env>.local`` (personal,
git-ignored overrides); the later file wins, as with Compose's repeated
``--env-file``.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dotenv.parser import parse_stream

from shipyard.core.config import Stack
from shipyard.core.errors import EnvFileError

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


SECRET_MARKER = "@secret"  # noqa: S105 - the marker, not a secret


@dataclass(frozen=True)
class ParsedEnv:
    """Everything one env file says, problems included, for reading and for env-check."""

    path: Path
    values: dict[str, EnvValue]
    secrets: frozenset[str]  # keys under a ``# @secret`` comment
    errors: tuple[str, ...]  # ``file:line: cannot parse '...'``
    duplicates: tuple[tuple[str, int, int], ...]  # (key, first line, repeated line)
    chunks: tuple[tuple[str | None, str], ...]  # (key or None, original text), to re-render


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise EnvFileError(f"env file {path} does not exist", tip="create it") from None
    except UnicodeDecodeError as exc:
        raise EnvFileError(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})",
            tip="save the file as UTF-8",
        ) from None


def parse_env_file(path: Path) -> ParsedEnv:
    """Parse ``path`` with python-dotenv's parser, keeping line numbers and markers.

    A UTF-8 byte-order mark and CRLF line endings (Windows editors) are accepted;
    ``export KEY=value`` is accepted as shells write it. A key is a secret when
    a comment line directly above it (no blank line between) contains
    ``@secret``.
    """
    values: dict[str, EnvValue] = {}
    errors: list[str] = []
    duplicates: list[tuple[str, int, int]] = []
    secrets: set[str] = set()
    chunks: list[tuple[str | None, str]] = []
    comments: list[str] = []
    for binding in parse_stream(io.StringIO(_read_text(path))):
        raw = binding.original.string
        lead = raw[: len(raw) - len(raw.lstrip())]
        # The parser counts from the blank lines it swallows before a binding.
        line = binding.original.line + lead.count("\n")
        if "\n" in lead:
            comments = []  # a blank line ends the comment block above a key
        chunks.append((binding.key, raw))
        if binding.error:
            errors.append(f"{path}:{line}: cannot parse {raw.strip()[:60]!r}")
        elif binding.key is None:
            comments.append(raw.strip())
        else:
            if binding.key in values:
                duplicates.append((binding.key, values[binding.key].line, line))
            values[binding.key] = EnvValue(binding.key, binding.value, path, line)
            if any(marks_secret(comment) for comment in comments):
                secrets.add(binding.key)
            comments = []
    return ParsedEnv(
        path, values, frozenset(secrets), tuple(errors), tuple(duplicates), tuple(chunks)
    )


def marks_secret(comment: str) -> bool:
    """Tell whether a comment line is the ``# @secret`` marker (not prose that mentions it)."""
    return comment.lstrip("#").lstrip().startswith(SECRET_MARKER)


def read_env_file(path: Path) -> dict[str, EnvValue]:
    """Return the values of ``path``; every line that does not parse is reported with its number."""
    parsed = parse_env_file(path)
    if parsed.errors:
        raise EnvFileError(
            f"{path} has {len(parsed.errors)} line(s) that are not KEY=value",
            details="\n".join(parsed.errors),
            tip="write each line as KEY=value (quote values with spaces; close every quote)",
        )
    return parsed.values


def render_with_secrets(template: ParsedEnv, generate: Callable[[], str]) -> str:
    """Return the template's text with a fresh value for every ``@secret`` key."""
    out = []
    for key, raw in template.chunks:
        if key is not None and key in template.secrets:
            lead = raw[: len(raw) - len(raw.lstrip())]
            out.append(f"{lead}{key}={generate()}\n")
        else:
            out.append(raw)
    return "".join(out)


def new_secret() -> str:
    """Return a strong random value that needs no quoting in env files or URLs."""
    return secrets.token_urlsafe(24)


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
    write_env_file(target, example, dry=dry)
    return target, (
        f"created {target} from {example} with fresh random secrets: edit it to change "
        "local settings"
    )


def write_env_file(target: Path, template: Path, *, dry: bool = False) -> None:
    """Write ``target`` from ``template`` with new secrets, readable by its owner only."""
    parsed = parse_env_file(template)
    if parsed.errors:  # a broken contract is reported before it is copied
        read_env_file(template)
    if dry:
        return
    text = render_with_secrets(parsed, new_secret)
    # Created 0600 from the start: the secrets are never readable by others.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    target.chmod(0o600)
