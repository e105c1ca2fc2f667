"""env-explain: which value each service sees, and which source won, in Compose's order.

Compose decides a container variable like this (highest first):

1. ``environment:`` in the compose files (the overlay's entry replaces the
   base's); a value there that references ``${VAR}`` is interpolated from the
   shell first, then the ``--env-file`` files (the later file wins), then the
   ``${VAR:-default}`` default; an entry without a value passes the shell's
   variable through;
2. ``env_file:`` files of the service (the later file wins);
3. ``ENV`` in the image.

The resolved values come from Compose itself (``docker compose config``); this
module only works out, from the raw files, where each one came from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from shipyard.core.compose import load_yaml
from shipyard.core.workspace import display_path
from shipyard.env.envfiles import EXAMPLE, EnvValue, layered, parse_env_file

SECRET_NAME = re.compile(
    r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.IGNORECASE
)
# A name ending in one of these is about a secret, not the secret (TOKEN_EXPIRE_MINUTES,
# JWT_TOKEN_PREFIX).
NOT_THE_SECRET = frozenset(
    {
        "MINUTES",
        "HOURS",
        "SECONDS",
        "DAYS",
        "TTL",
        "EXPIRE",
        "EXPIRES",
        "LENGTH",
        "SIZE",
        "URL",
        "HOST",
        "PORT",
        "NAME",
        "USER",
        "PREFIX",
        "FILE",
        "PATH",
        "ID",
        "ALGORITHM",
        "AGE",
        "ENABLED",
        "DISABLED",
        "LIMIT",
        "RATE",
        "TIMEOUT",
        "COUNT",
    }
)
# A name starting with one of these is a switch (ENABLE_EMAIL_PASSWORD), not a secret.
SWITCHES = frozenset({"ENABLE", "DISABLE", "USE", "IS", "HAS", "ALLOW", "REQUIRE", "SHOW"})


def looks_secret(name: str) -> bool:
    """Tell a secret-looking variable name (a PASSWORD, TOKEN, API_KEY...), not its settings."""
    parts = name.upper().split("_")
    if parts[-1] in NOT_THE_SECRET or parts[0] in SWITCHES:
        return False
    return bool(SECRET_NAME.search(name))


_REFERENCE = re.compile(
    r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?P<op>:?[-?+])?(?P<arg>[^}]*)\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


@dataclass(frozen=True)
class Candidate:
    """One place a value could come from, in precedence order."""

    source: str
    value: str | None  # None: not set there
    wins: bool = False


@dataclass(frozen=True)
class Explained:
    """A variable one service sees: its value (redacted if secret) and where it came from."""

    service: str
    key: str
    value: str
    secret: bool
    source: str
    chain: tuple[Candidate, ...] = field(default=())


def references(template: str) -> list[tuple[str, str | None, str]]:
    """Return the ``(name, operator, argument)`` of each ``${...}``/``$NAME`` in ``template``."""
    found = []
    for match in _REFERENCE.finditer(template):
        name = match.group("braced") or match.group("bare")
        if name:
            found.append((name, match.group("op"), match.group("arg") or ""))
    return found


def redact(value: str) -> str:
    """Hide a secret's value, keeping only its length."""
    return f"<redacted, {len(value)} chars>" if value else "<empty>"


def _as_mapping(environment: object) -> dict[str, str | None]:
    if isinstance(environment, dict):
        return {str(k): None if v is None else str(v) for k, v in environment.items()}
    if isinstance(environment, list):
        pairs = [str(item).split("=", 1) for item in environment]
        return {p[0]: p[1] if len(p) > 1 else None for p in pairs}
    return {}


def raw_environment(files: list[Path], service: str) -> dict[str, tuple[str | None, Path]]:
    """Return each ``environment:`` entry of ``service`` with the file that set it last."""
    entries: dict[str, tuple[str | None, Path]] = {}
    for path in files:
        spec = (load_yaml(path).get("services") or {}).get(service) or {}
        for key, template in _as_mapping(spec.get("environment")).items():
            entries[key] = (template, path)
    return entries


Layers = list[tuple[Path, dict[str, EnvValue]]]


def _interpolation_chain(
    name: str, op: str | None, arg: str, shell: Mapping[str, str], env_layers: Layers
) -> list[Candidate]:
    candidates = [Candidate("the shell", shell.get(name))]
    for path, values in reversed(env_layers):
        found = values.get(name)
        where = f"{display_path(path)}:{found.line}" if found else display_path(path)
        candidates.append(Candidate(where, found.value if found else None))
    if op in {"-", ":-"}:
        candidates.append(Candidate("the default in the compose file", arg))
    # `${VAR:-x}` also passes over empty values; `${VAR-x}` only unset ones.
    winner = next(
        (i for i, c in enumerate(candidates) if c.value is not None and (c.value or op != ":-")),
        None,
    )
    return [Candidate(c.source, c.value, wins=i == winner) for i, c in enumerate(candidates)]


def explain(
    *,
    service_models: Mapping[str, Mapping[str, Any]],
    compose_files: list[Path],
    env_files: list[Path],
    contract_dir: Path,
    shell: Mapping[str, str],
    image_env: Mapping[str, list[str]],
) -> list[Explained]:
    """Explain every variable of every service.

    ``service_models`` is ``services`` of ``docker compose config --format json``;
    ``image_env`` maps an image to its ``Config.Env`` (absent when not built).
    """
    example = contract_dir / EXAMPLE
    contract_secrets = parse_env_file(example).secrets if example.is_file() else frozenset()
    env_layers: Layers = [(path, layered([path])) for path in env_files]
    rows: list[Explained] = []
    for service, model in sorted(service_models.items()):
        resolved = _as_mapping(model.get("environment"))
        raw = raw_environment(compose_files, service)
        image = str(model.get("image", ""))
        for key, value in sorted(resolved.items()):
            template, path = raw.get(key, (None, None))
            refs = references(template) if template else []
            secret = bool(
                looks_secret(key)
                or key in contract_secrets
                or any(name in contract_secrets or looks_secret(name) for name, _, _ in refs)
            )
            chain: list[Candidate] = []
            if path is None:
                source = "env_file of the service"
            elif template is None:
                source = f"environment in {display_path(path)}, passed through from the shell"
                chain = [Candidate("the shell", shell.get(key), wins=True)]
            elif not refs:
                source = f"environment in {display_path(path)} (literal)"
            else:
                parts = []
                for name, op, arg in refs:
                    links = _interpolation_chain(name, op, arg, shell, env_layers)
                    chain += links
                    won = next((c.source for c in links if c.wins), "nowhere (unset)")
                    parts.append(f"{name} from {won}")
                source = f"environment in {display_path(path)} <- " + ", ".join(parts)
            shown = redact(value or "") if secret else (value or "")
            if secret:
                chain = [
                    Candidate(c.source, None if c.value is None else redact(c.value), c.wins)
                    for c in chain
                ]
            rows.append(Explained(service, key, shown, secret, source, tuple(chain)))
        for entry in image_env.get(image, []):
            key, _, value = entry.partition("=")
            if key not in resolved:
                secret = looks_secret(key)
                rows.append(
                    Explained(
                        service,
                        key,
                        redact(value) if secret else value,
                        secret,
                        f"ENV in the image {image}",
                    )
                )
    return rows


def to_json(env: str, rows: list[Explained]) -> str:
    """Render for scripts: ``{"env": ..., "variables": [...]}``."""
    return json.dumps({"env": env, "variables": [asdict(row) for row in rows]}, indent=2)


def to_text(rows: list[Explained], *, key: str | None = None) -> str:
    """Render a table; with ``key``, add each candidate source in precedence order."""
    lines = []
    width = max((len(f"{r.service} {r.key}") for r in rows), default=0)
    for row in rows:
        lines.append(f"{row.service} {row.key}".ljust(width) + f"  = {row.value}    [{row.source}]")
        if key:
            for c in row.chain:
                shown = "(not set)" if c.value is None else c.value
                lines.append(f"    {'wins  ' if c.wins else '      '}{c.source}: {shown}")
    return "\n".join(lines)
