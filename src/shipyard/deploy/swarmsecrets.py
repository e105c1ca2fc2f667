"""``@secret`` values as Swarm secrets: which variables move, and creating them.

Anyone who can inspect a service reads its spec, so a variable that holds (or
embeds) a secret value is taken out of it and reaches the task as a file
under ``/run/secrets``, through a secret named by a digest of the value
(Swarm secrets are immutable). Not ``secrets.py``: the standard library's
module, which ``shipyard.env`` imports, has that name.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.core.errors import ShipyardError
from shipyard.core.workspace import Workspace
from shipyard.deploy.converge import NAMESPACE
from shipyard.env.datavolumes import fingerprint

EMBEDDED = 8  # a secret this long found inside a value (a URL) moves the whole value


@dataclass(frozen=True)
class Secret:
    """One value that reaches a service as a Swarm secret file."""

    variable: str  # the service's environment variable
    value: str
    key: str  # its name in the stack file
    name: str  # its name on the swarm (secrets are immutable: a new value, a new name)


def secrets_for(
    stack: str, services: Mapping[str, Any], values: Iterable[str]
) -> dict[tuple[str, str], Secret]:
    """Return, per (service, variable), the variables whose value holds a secret value.

    A variable that only embeds one (``postgres://u:<password>@db/x``) moves
    whole. The name carries a digest of the value, so a new value is a new
    secret and an unchanged one redeploys nothing.
    """
    needles = [v for v in values if v]
    found: dict[tuple[str, str], Secret] = {}
    for service, spec in services.items():
        for variable, raw in ((spec or {}).get("environment") or {}).items():
            if raw is None:
                continue
            value = str(raw).replace("$$", "$")  # Compose's model escapes $ for re-reading
            if value in needles or any(
                len(needle) >= EMBEDDED and needle in value for needle in needles
            ):
                key = f"{variable.lower()}_{fingerprint(f'{stack}/{variable}', value)[:12]}"
                found[service, variable] = Secret(variable, value, key, f"{stack}_{key}")
    return found


def create_secrets(ws: Workspace, stack: str, secrets: Iterable[Secret]) -> list[str]:
    """Create the Swarm secrets not there yet; values go through a private file, never argv."""
    existing = set(
        ws.runner.run(
            ["docker", "secret", "ls", "--format", "{{.Name}}"], capture=True, query=True
        ).stdout.split()
    )
    created = []
    with tempfile.TemporaryDirectory(prefix="shipyard-secret-") as folder:
        for secret in sorted(set(secrets), key=lambda s: s.name):
            if secret.name in existing:
                continue
            path = Path(folder) / secret.key
            path.write_text(secret.value, encoding="utf-8")
            path.chmod(0o600)
            ws.runner.run(
                [
                    "docker",
                    "secret",
                    "create",
                    "--label",
                    f"{NAMESPACE}={stack}",
                    secret.name,
                    str(path),
                ],
                capture=True,
            )
            path.unlink()
            created.append(secret.name)
    return created


def leaks(text: str, values: Iterable[str]) -> None:
    """Stop the deploy if ``text`` (a rendered stack file) holds a secret value."""
    if any(value and value in text for value in values):  # pragma: no cover - a bug if it fires
        msg = "a secret value would land in the stack file"
        raise ShipyardError(msg, tip="report it; nothing was deployed")
