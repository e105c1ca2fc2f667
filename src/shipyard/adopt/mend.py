"""Mend init's settings from what failed in the image, when the failure says the fix.

``shipyard init`` checks its guesses in the test image (:mod:`shipyard.testing.verify`).
Some failures carry their own fix, read from the output alone: a module the
tests import that no requirement installs (``No module named 'factory'``: add
``factory-boy``), a variable the code requires that the contract leaves empty
(pydantic's ``Field required``, ``KeyError: 'X'``, django-environ's ``Set the X
environment variable``: give it an example value of the type the error names),
the app object found by importing the code. Each mend is one settings line,
written where the user would write it; anything else is not guessed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.adopt import versions
from shipyard.adopt.plan import toml_value
from shipyard.core.config import SETTINGS_FILE, read_settings

# Import names whose distribution is named otherwise (the rest: '_' becomes '-').
DISTRIBUTIONS = {
    "bs4": "beautifulsoup4",
    "cv2": "opencv-python-headless",
    "dateutil": "python-dateutil",
    "dotenv": "python-dotenv",
    "factory": "factory-boy",
    "jose": "python-jose",
    "jwt": "pyjwt",
    "magic": "python-magic",
    "multipart": "python-multipart",
    "MySQLdb": "mysqlclient",
    "PIL": "pillow",
    "psycopg2": "psycopg2-binary",
    "sklearn": "scikit-learn",
    "yaml": "pyyaml",
}
MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")
NO_PYTEST = re.compile(r'exec: "pytest": executable file not found|pytest: not found')
UNKNOWN_OPTION = re.compile(r"unrecognized arguments: .*--(cov|timeout|xdist|reruns)\b")
OPTION_PLUGINS = {
    "cov": "pytest-cov",
    "timeout": "pytest-timeout",
    "xdist": "pytest-xdist",
    "reruns": "pytest-rerunfailures",
}
# A variable the code requires: its name, as each library says it.
REQUIRED = (
    # A job's log in a health failure's details is indented.
    re.compile(r"^\s*KeyError: '([A-Z][A-Z0-9_]*)'\s*$", re.MULTILINE),
    re.compile(r"Set the ([A-Z][A-Z0-9_]*) environment variable"),
)
# An empty value handed to int() or float(): the variable is in the traceback above it.
EMPTY_TYPED = (
    (re.compile(r"invalid literal for int\(\) with base 10: ''"), "1"),
    (re.compile(r"could not convert string to float: ''"), "1.0"),
)
# pydantic: a field's name, then its error under it ("  Field required [type=missing, ...").
FIELD_ERROR = re.compile(r"^(\w+)\n\s+(.*?)\[type=(\w+)", re.MULTILINE)
APP_FOUND = re.compile(r"^shipyard-app: (\S+:\S+)$", re.MULTILINE)


@dataclass(frozen=True)
class Mend:
    """One settings line that fixes what failed, and why."""

    key: str  # an init setting; ``env`` for one variable of the contract
    value: object  # the setting's new value (for env: the variable's value)
    reason: str
    variable: str = ""  # for env

    def line(self, where: str) -> str:
        """Say the line as the user would write it."""
        name = self.variable or self.key
        return f"{name} = {toml_value(self.value)} under {where}"


def example_value(name: str, error: str = "missing", message: str = "") -> str | None:
    """Return a value fitting a variable's name and the type its error names (None: no idea)."""
    upper, missing = name.upper(), error == "missing"
    least = re.search(r"at least (\d+)", message)
    rules = (
        ("email" in message.lower() or (missing and "EMAIL" in upper), "admin@example.com"),
        ((missing or error.startswith("int_")) and upper.endswith("PORT"), "8000"),
        (error.startswith("int_"), "1"),
        (error.startswith("float_"), "1.0"),
        (error.startswith("bool_") or (missing and upper in {"DEBUG", "TESTING"}), "false"),
        (
            error.startswith("url_") or (missing and upper.endswith(("_URL", "_URI"))),
            "http://localhost",
        ),
        (error == "string_too_short" and least, "x" * int(least.group(1)) if least else ""),
        (missing and upper.endswith("HOST"), "localhost"),
        (missing, "example"),
    )
    return next((value for holds, value in rules if holds), None)


def _distribution(module: str) -> str:
    top = module.split(".", maxsplit=1)[0]
    return DISTRIBUTIONS.get(top, top.replace("_", "-").lower())


def _own_module(root: Path, module: str) -> bool:
    top = module.split(".", maxsplit=1)[0]
    return any(
        (base / top).is_dir() or (base / f"{top}.py").is_file() for base in (root, root / "src")
    )


def _test_tool(root: Path, output: str, current: list[str]) -> Mend | None:
    found = []
    if NO_PYTEST.search(output):
        found.append(("pytest", "pytest is not installed in the test image"))
    if option := UNKNOWN_OPTION.search(output):
        plugin = OPTION_PLUGINS[option.group(1)]
        found.append((plugin, f"pytest does not know --{option.group(1)}"))
    found += [
        (_distribution(module), f"the tests import {module}, not installed")
        for module in MISSING_MODULE.findall(output)
        if not _own_module(root, module)
    ]
    new = [(p, why) for p, why in dict(found).items() if p not in current]
    if not new:
        return None
    return Mend(
        "extra-test-packages",
        [*current, *(p for p, _ in new)],
        "; ".join(why for _, why in new),
    )


# A package that must match another's version exactly (psycopg's C and binary builds).
COMPANIONS = {"psycopg-binary": "psycopg", "psycopg-c": "psycopg"}


def _pinned(root: Path, distribution: str) -> str:
    """Return ``distribution``, pinned to its companion's version when the project pins that."""
    companion = COMPANIONS.get(distribution)
    version = versions.pinned_version(root, companion) if companion else None
    return f"{distribution}=={version}" if version else distribution


def _runtime_package(root: Path, output: str, current: list[str]) -> Mend | None:
    modules = [m for m in MISSING_MODULE.findall(output) if not _own_module(root, m)]
    names = {p.split("==")[0] for p in current}
    new = [_distribution(m) for m in modules if _distribution(m) not in names]
    if not new:
        return None
    return Mend(
        "extra-packages",
        [*current, _pinned(root, new[-1])],
        f"the app imports {modules[-1]}, not installed",
    )


def _last_named(text: str, names: list[str]) -> str | None:
    """Return the name quoted last in ``text`` (the line nearest the error), if any."""
    where = {n: max(text.rfind(f"'{n}'"), text.rfind(f'"{n}"')) for n in names}
    named = [n for n, at in where.items() if at >= 0]
    return max(named, key=where.__getitem__) if named else None


def _variable(output: str, env: Mapping[str, str], secrets: list[str]) -> Mend | None:
    for pattern in REQUIRED:
        for name in pattern.findall(output):
            if not env.get(name) and name not in secrets and (value := example_value(name)):
                return Mend("env", value, f"the code requires {name}", variable=name)
    empty = [k for k, v in env.items() if not v and k not in secrets]
    for pattern, value in EMPTY_TYPED:
        if (error := pattern.search(output)) and (
            name := _last_named(output[: error.start()], empty)
        ):
            return Mend("env", value, f"{name} is empty and the code needs a number", variable=name)
    for field, message, error in FIELD_ERROR.findall(output):
        names = [k for k in env if k == field.upper() or k.endswith("_" + field.upper())]
        name = names[0] if names else field.upper()
        if name in secrets or (env.get(name) and error == "missing"):
            continue
        value = example_value(name, error, message)
        if value is not None and value != env.get(name):
            return Mend("env", value, f"{name}: {message.strip() or error}", variable=name)
    return None


def diagnose(root: Path, stage: str, output: str, settings: Mapping[str, Any]) -> Mend | None:
    """Return the one settings change that fixes ``output``, or None.

    ``stage`` says what failed: ``app`` (importing it, or finding it), ``prepare``
    (the one-shot job), ``collect`` (pytest collecting the suite).
    """
    if found := APP_FOUND.search(output):
        return Mend("app", found.group(1), "found by importing the code in the test image")
    env = {str(k): str(v) for k, v in settings.get("env", {}).items()}
    if mend := _variable(output, env, list(settings.get("secrets", []))):
        return mend
    if stage == "collect":
        return _test_tool(root, output, list(settings.get("extra-test-packages", [])))
    return _runtime_package(root, output, list(settings.get("extra-packages", [])))


def _table_span(text: str, table: str) -> tuple[int, int] | None:
    """Return where the body of ``[table]`` starts and ends in ``text``."""
    header = re.compile(rf"^\[\s*{re.escape(table)}\s*\][ \t]*(#[^\n]*)?(\n|$)", re.MULTILINE)
    match = header.search(text)
    if not match:
        return None
    following = re.compile(r"^\s*\[", re.MULTILINE).search(text, match.end())
    return match.end(), following.start() if following else len(text)


def set_line(text: str, table: str, key: str, value: str, note: str) -> str:
    """Return ``text`` with ``key = value  # note`` in ``[table]`` (replaced, else added)."""
    line = f"{key} = {value}  # {note}"
    span = _table_span(text, table)
    if span is None:
        return text + ("\n" if text and not text.endswith("\n") else "") + f"[{table}]\n{line}\n"
    start, end = span
    body = text[start:end]
    pattern = re.compile(rf'^[ \t]*("?){re.escape(key)}\1[ \t]*=.*$', re.MULTILINE)
    replaced, count = pattern.subn(lambda _: line, body, count=1)
    body = replaced if count else f"{line}\n{body}"
    return text[:start] + body + text[end:]


def fill_env_files(root: Path, name: str, value: str) -> list[Path]:
    """Give ``name`` its value in the env files made from the contract, where it is empty.

    init regenerates the contract; ``env/.env.test`` and ``.env.dev``, made from an
    earlier contract on first use, keep their values, so the one they lack is filled
    in (a value the user set stays).
    """
    filled = []
    for path in sorted((root / "env").glob(".env.*")):
        if path.name in {".env.example", ".env.ci"} or not re.fullmatch(
            r"\.env\.[\w-]+", path.name
        ):
            continue
        text = path.read_text(encoding="utf-8")
        line = re.compile(rf"^{re.escape(name)}=[ \t]*$", re.MULTILINE)
        if line.search(text):
            text = line.sub(lambda _: f"{name}={value}", text, count=1)
        elif not re.search(rf"^{re.escape(name)}=", text, re.MULTILINE):
            text += ("" if text.endswith("\n") or not text else "\n") + f"{name}={value}\n"
        else:
            continue
        path.write_text(text, encoding="utf-8")
        filled.append(path)
    return filled


def apply(root: Path, mend: Mend) -> str:
    """Write the mend into the init settings; return where it went (for the message)."""
    path, _ = read_settings(root)
    if not path.is_file():
        path = root / SETTINGS_FILE
    table = "init" if path.name == SETTINGS_FILE else "tool.shipyard.init"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    note = f"mended by shipyard init: {mend.reason}"[:150]
    if mend.key == "env":
        text = set_line(text, f"{table}.env", mend.variable, toml_value(mend.value), note)
        fill_env_files(root, mend.variable, str(mend.value))
    else:
        text = set_line(text, table, mend.key, toml_value(mend.value), note)
    path.write_text(text, encoding="utf-8")
    return f"[{table}{'.env' if mend.key == 'env' else ''}] in {path.name}"
