"""The apt packages a project's dependencies need: to build their wheels, and at run time."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from shipyard.adopt.detect import Found, metadata_text, requirement_files

BUILD_PACKAGES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "psycopg2": (("gcc", "libc6-dev", "libpq-dev"), ("libpq5",)),
    "psycopg-c": (("gcc", "libc6-dev", "libpq-dev"), ("libpq5",)),
    "mysqlclient": (
        ("gcc", "libc6-dev", "pkg-config", "default-libmysqlclient-dev"),
        ("libmariadb3",),
    ),
    "uwsgi": (("gcc", "libc6-dev"), ()),
    "python-ldap": (("gcc", "libc6-dev", "libldap2-dev", "libsasl2-dev"), ("libldap-2.5-0",)),
}


def _pure_psycopg(root: Path, deps: Mapping[str, str]) -> bool:
    """Tell whether psycopg 3 runs as pure Python, which loads the system's libpq."""
    if "psycopg" not in deps or {"psycopg-binary", "psycopg-c"} & set(deps):
        return False
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in requirement_files(root)]
    texts.append(metadata_text(root))
    return not any(re.search(r"psycopg\[[^\]]*\b(binary|c)\b", text) for text in texts)


def system_packages(deps: Mapping[str, str], root: Path | None = None) -> tuple[Found, Found]:
    """Return apt packages to build wheels (builder stage) and what they need at run time."""
    build: list[str] = []
    runtime: list[str] = []
    reasons = []
    if root is not None and _pure_psycopg(root, deps):
        runtime.append("libpq5")
        reasons.append(f"psycopg loads the system's libpq ({deps['psycopg']})")
    for name, (needs, keeps) in BUILD_PACKAGES.items():
        if name in deps:
            build += [p for p in needs if p not in build]
            runtime += [p for p in keeps if p not in runtime]
            reasons.append(f"{name} compiles from source ({deps[name]})")
    why = "; ".join(reasons) or "every dependency ships wheels"
    return Found(build, why), Found(runtime, why)


# Packages of older Debian releases that bookworm (the images' base) names otherwise.
RENAMED_PACKAGES = {
    "netcat": "netcat-openbsd",
    "libgdal26": "libgdal32",
    "libffi7": "libffi8",
    "libssl1.1": "libssl3",
    "python-dev": "python3-dev",
}


def bookworm_names(names: list[str]) -> tuple[list[str], str]:
    """Return apt package ``names`` as bookworm has them, and what was renamed ("; a is b...")."""
    renamed = [(n, RENAMED_PACKAGES[n]) for n in names if n in RENAMED_PACKAGES]
    said = "".join(f"; {old} is {new} on bookworm" for old, new in renamed)
    return [RENAMED_PACKAGES.get(n, n) for n in names], said
