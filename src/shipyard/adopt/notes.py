"""The notes ``shipyard init`` prints under its findings: what it could not settle itself."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from shipyard.adopt import detect, evidence
from shipyard.adopt.keys import UNTRIED

Say = Callable[[str], None]


def missing_values(chosen: Mapping[str, detect.Found], say: Say) -> None:
    """Say which variables the code needs that init could give no value."""
    secrets = set(chosen["secrets"].value)
    empty = [k for k, v in chosen["env"].value.items() if v == "" and k not in secrets]
    if empty:
        say(
            f"  note: the code needs {', '.join(empty)} and gives no default: "
            "set each under env in the init settings, then 'shipyard init --force'"
        )
    untried = [f"{s} ({UNTRIED[s]})" for s in chosen["services"].value if s in UNTRIED]
    if untried:
        say(
            f"  note: shipyard's own tests have never run {' or '.join(untried)}: check the "
            "health check and URL of each on the first 'inv dev-up'"
        )
    if chosen["framework"].value != "none" and not chosen["app"].value:
        say(
            f"  note: found {chosen['framework'].value} but no app object in the code: "
            "the stack serves nothing until app is set in the init settings (verify looks "
            "for it by importing the code)"
        )


# Test libraries that start containers of their own: inside the test image there is no engine.
OWN_CONTAINERS = ("testcontainers", "pytest-databases", "pytest-docker", "pytest-docker-compose")


def own_containers(root: Path, say: Say) -> None:
    """Say plainly when the suite starts containers itself (it cannot, inside the image)."""
    deps = detect.dependencies(root)
    found = [f"{d} ({deps[d]})" for d in OWN_CONTAINERS if d in deps]
    if found:
        say(
            f"  note: the suite starts containers of its own ({', '.join(found)}); inside the "
            "test image there is no Docker engine, so those tests fail there ('docker' not "
            "found): run them on the host with 'pytest', and give docker-test the rest "
            "(deselect them in test-command, e.g. -m 'not docker', or -k)"
        )


def other_versions(root: Path, base: str, say: Say) -> None:
    """Say when the project's own compose file runs another version than ``base`` (ours)."""
    ours = dict(
        re.findall(r"(?m)^\s+image: ((?:postgres|mariadb|redis|rabbitmq|memcached)):(\S+)", base)
    )
    for where in evidence.compose_services(root).values():
        theirs = re.search(
            r"runs (?:\S+/)?(postgres|mariadb|mysql|redis|rabbitmq|memcached):(\d+)", where
        )
        if not theirs:
            continue
        name = "mariadb" if theirs[1] == "mysql" else theirs[1]
        major = ours.get(name, "").split(".")[0].split("-")[0]
        if major and theirs[1] == name and major != theirs[2]:
            say(
                f"  note: {where}; compose/docker-compose.yml runs {name}:{ours[name]} (change "
                "its image: line to keep the project's version: a data volume one major "
                "version made does not open in another)"
            )


def stale_env_files(root: Path, say: Say, *, replaced: bool) -> None:
    """Say which env files were made from the contract this run ``replaced``."""
    stale = sorted(
        p.name.removeprefix(".env.")
        for p in (root / "env").glob(".env.*")
        if re.fullmatch(r"\.env\.[a-z0-9_-]+", p.name) and p.name not in {".env.example", ".env.ci"}
    )
    if replaced and stale:
        say(
            f"  note: env files made from the old contract ({', '.join(stale)}) keep their "
            "values: 'inv env-init --env <env> --force' remakes one"
        )
