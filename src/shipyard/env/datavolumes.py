"""Data volumes remember the secrets they were created with: fingerprints, never values.

A database volume keeps the password it was initialised with: regenerate
``env/.env.dev`` (``env-init --force``, a deleted file, a fresh clone next to
an old volume) and the next ``up`` fails deep inside a migrate job with
"password authentication failed". So after a stack first comes up healthy,
shipyard records, per data volume, a salted fingerprint of every ``@secret``
value that the services mounting it receive; before the next ``up`` it
compares, and a changed value stops the start with the key, the env file,
and both fixes. The record lives on this machine (``$XDG_STATE_HOME/shipyard``
or ``%LOCALAPPDATA%/shipyard``), keyed by the volume's name; deleting the
volume (``down --volumes``, or outside shipyard) deletes its record.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.core.cache import read_json, state_dir, write_json
from shipyard.core.errors import ConfigError
from shipyard.core.workspace import Workspace, display_path
from shipyard.env import envfiles
from shipyard.env.environment import Environment, stand_in_env_files

COMPOSE_PROJECT = "com.docker.compose.project"
COMPOSE_VOLUME = "com.docker.compose.volume"
STACK_NAMESPACE = "com.docker.stack.namespace"  # on what `docker stack deploy` makes


def state_file() -> Path:
    """Return the file holding this machine's volume fingerprints."""
    return state_dir() / "volumes.json"


def _load() -> dict[str, Any]:
    state = read_json(state_file()) or {}
    if not isinstance(state, dict) or not isinstance(state.get("volumes"), dict):
        state = {"volumes": {}}
    state.setdefault("salt", secrets.token_hex(16))
    return state


def _save(state: dict[str, Any]) -> None:
    write_json(state_file(), state)


def fingerprint(salt: str, value: str) -> str:
    """Return a salted digest of ``value``: enough to compare, useless to read."""
    return hashlib.sha256(f"{salt}\0{value}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Volume:
    """A data volume of the stack that exists on the engine."""

    key: str  # the name in the compose files
    name: str  # the engine's name, the key of its record


def existing(ws: Workspace, environment: Environment, stack: str = "") -> list[Volume]:
    """Return the stack's volumes that exist on the engine.

    Those Compose created for the environment, or with ``stack`` those of that
    Swarm stack (named ``<stack>_<key>``, labelled with its namespace).
    """
    label = f"{STACK_NAMESPACE}={stack}" if stack else f"{COMPOSE_PROJECT}={environment.project}"
    listed = ws.runner.run(
        [
            "docker",
            "volume",
            "ls",
            "--filter",
            f"label={label}",
            "--format",
            f'{{{{.Name}}}}\t{{{{.Label "{COMPOSE_VOLUME}"}}}}',
        ],
        capture=True,
        check=False,
        query=True,
    )
    rows = (line.split("\t", 1) for line in listed.stdout.splitlines() if "\t" in line)
    volumes = (Volume(key or name.removeprefix(f"{stack}_"), name) for name, key in rows if name)
    return sorted(volumes, key=lambda volume: volume.name)


def secret_keys(ws: Workspace, environment: Environment) -> set[str]:
    """Return the keys marked ``@secret`` in the env files or their template."""
    files = [path for path in environment.env_files if path.is_file()]
    marked: set[str] = set()
    for path in [*files, *stand_in_env_files(ws.stack, environment.name)]:
        marked |= envfiles.parse_env_file(path).secrets
    return marked


def secret_values(ws: Workspace, environment: Environment) -> dict[str, envfiles.EnvValue]:
    """Return the ``@secret`` keys of the env files (or their template) with their values."""
    marked = secret_keys(ws, environment)
    files = [path for path in environment.env_files if path.is_file()]
    return {
        key: value
        for key, value in envfiles.layered(files).items()
        if key in marked and value.value
    }


def secrets_of(
    ws: Workspace, environment: Environment, volume: str
) -> dict[str, envfiles.EnvValue]:
    """Return the ``@secret`` values that the services mounting ``volume`` receive."""
    received: set[str] = set()
    for spec in environment.services.values():
        mounts = (spec or {}).get("volumes") or []
        if any(m.get("type") == "volume" and m.get("source") == volume for m in mounts):
            received |= {str(v) for v in ((spec or {}).get("environment") or {}).values()}
    return {
        key: value
        for key, value in secret_values(ws, environment).items()
        if value.value in received
    }


def changed(
    ws: Workspace, environment: Environment, stack: str = ""
) -> list[tuple[Volume, envfiles.EnvValue]]:
    """Return each (volume, secret) whose value differs from the one the volume was created with.

    Records of this stack's volumes that no longer exist (removed outside
    shipyard) are dropped first: a volume created again is a new one.
    """
    records = _load()
    volumes = existing(ws, environment, stack)
    names = {volume.name for volume in volumes}
    gone = [
        name
        for name in records["volumes"]
        if name.startswith(f"{stack or environment.project}_") and name not in names
    ]
    if gone:
        for name in gone:
            del records["volumes"][name]
        _save(records)
    found = []
    for volume in volumes:
        recorded = records["volumes"].get(volume.name) or {}
        for key, value in secrets_of(ws, environment, volume.key).items():
            was = recorded.get(key)
            if was and was != fingerprint(records["salt"], value.value or ""):
                found.append((volume, value))
    return found


def down_command(env: str) -> str:
    """Return the command that deletes the data of ``env``."""
    return "inv dev-down --volumes" if env == "dev" else f"inv down --env {env} --volumes"


def describe(mismatches: list[tuple[Volume, envfiles.EnvValue]]) -> str:
    """Return one line per changed secret: which volume, which key, which file."""
    return "\n".join(
        f"volume {volume.name} was created with another {value.key} than "
        f"{display_path(value.path)}:{value.line} holds now"
        for volume, value in mismatches
    )


def check(ws: Workspace, environment: Environment, stack: str = "") -> None:
    """Stop before starting a stack whose data volumes hold other secrets than its env files.

    With ``stack``, the volumes of that Swarm stack (``inv deploy``'s check).
    """
    mismatches = changed(ws, environment, stack)
    if mismatches:
        keys = ", ".join(sorted({value.key for _, value in mismatches}))
        names = " ".join(volume.name for volume, _ in mismatches)
        start_over = (
            f"'inv undeploy --env {environment.name}' and 'docker volume rm {names}'"
            if stack
            else f"'{down_command(environment.name)}'"
        )
        raise ConfigError(
            f"the {stack or environment.name} stack's data was created with another {keys}: "
            "it would not start",
            details=describe(mismatches),
            tip=f"put the old value back in the env file, or delete the data and start "
            f"over with {start_over}",
        )


def remember(ws: Workspace, environment: Environment, stack: str = "") -> None:
    """Record the fingerprints of volumes not recorded yet (those of Swarm ``stack``, if given)."""
    records = _load()
    new = {
        volume.name: {
            key: fingerprint(records["salt"], value.value or "")
            for key, value in secrets_of(ws, environment, volume.key).items()
        }
        for volume in existing(ws, environment, stack)
        if volume.name not in records["volumes"]
    }
    if new:
        records["volumes"].update(new)
        _save(records)


def forget(volumes: list[Volume]) -> None:
    """Drop the records of volumes that were deleted."""
    records = _load()
    gone = [volume.name for volume in volumes if volume.name in records["volumes"]]
    if gone:
        for name in gone:
            del records["volumes"][name]
        _save(records)
