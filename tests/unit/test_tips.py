"""Every command a TIP or notice names is one that invoke's (or nox's) parser accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from invoke.exceptions import ParseError
from invoke.parser import Parser
from invoke.parser.context import ParserContext

from shipyard.env.datavolumes import down_command
from shipyard.tasks import namespace

SRC = Path(__file__).resolve().parents[2] / "src/shipyard"
# A quoted command in the source: 'inv ...', 'nox ...', 'shipyard ...', f-string fields allowed.
QUOTED = re.compile(r"'((?:inv|nox|shipyard) [^'{]*(?:\{[^}]*\}[^'{]*)*)'")
# What the fields stand for in a real message.
FIELDS = {
    "env": "dev",
    "name": "dev",
    "service": "api",
    "example": "api",
    "known[0]": "runner",
    "which": " --service api",
    "stack": "shop",
    "environment.name": "prod",
    "root": "/srv/app",
    "folder": "app",
}
NOX_SESSIONS = {"lint", "tests", "docker-build", "docker-test", "integration"}
SHIPYARD_COMMANDS = {"init", "docker-test", "gc", "verify"}


def commands() -> list[tuple[str, str]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for match in QUOTED.finditer(path.read_text()):
            text = re.sub(r"\{([^}]*)\}", lambda m: FIELDS[m.group(1)], match.group(1))
            text = text.replace("<env>", "dev")
            found.append((f"{path.relative_to(SRC)}: {match.group(1)}", text))
    return found


COMMANDS = commands()


def test_the_scan_finds_the_tips() -> None:
    """The scan is not vacuous: it sees the TIPs of several modules."""
    assert len(COMMANDS) >= 20
    assert any(text == "inv env-init --env dev --force" for _, text in COMMANDS)


@pytest.mark.parametrize(("where", "text"), COMMANDS, ids=[w for w, _ in COMMANDS])
def test_each_named_command_parses(where: str, text: str) -> None:
    """Invoke's own parser takes each `inv` line; nox sessions and shipyard commands exist."""
    words = shlex.split(text)
    tool, args = words[0], words[1:]
    if args[0] in {"-c", "-f"}:  # inv's collection, nox's noxfile: the one core option used
        assert (tool, args[0]) in {("inv", "-c"), ("nox", "-f")}, where
        args = args[2:]
    if tool == "nox":
        assert args[0] == "-s", where
        assert args[1] in NOX_SESSIONS, where
        return
    if tool == "shipyard":
        assert args[0] in SHIPYARD_COMMANDS, where
        return
    try:
        result = parse(args)
    except ParseError as exc:
        pytest.fail(f"{where}: invoke rejects {text!r}: {exc}")
    assert [ctx.name for ctx in result][1:] == [args[0]], where


def parse(args: list[str]) -> list[ParserContext]:
    parser = Parser(contexts=namespace().to_contexts(), initial=ParserContext())
    return list(parser.parse_argv(args))


def test_a_bare_word_is_rejected_as_users_saw() -> None:
    """The TIP users could not run: invoke takes options, not bare words."""
    with pytest.raises(ParseError, match="No idea what 'dev' is!"):
        parse(["env-init", "dev", "--force"])


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_commands_built_for_an_environment_parse(env: str) -> None:
    """TIPs that build their command (delete the data, confirm with --yes) name real ones."""
    for text in (down_command(env), f"{down_command(env)} --yes"):
        words = shlex.split(text)
        assert words[0] == "inv"
        assert [ctx.name for ctx in parse(words[1:])][1:] == [words[1]], text
