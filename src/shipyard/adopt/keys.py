"""The settings of ``shipyard init`` (``[tool.shipyard.init]``): each key, its type, its check."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from shipyard.adopt import pipelines, render
from shipyard.core.errors import ConfigError

# key: (kind, what it is). Kinds check the TOML type a user wrote.
INIT_KEYS: dict[str, tuple[type, str]] = {
    "python": (str, "Python version of the images"),
    "toolchain": (str, "uv, poetry or pip"),
    "install": (list, "pip: the requirement files of the runtime"),
    "install-project": (bool, "install the project itself (it has a build backend)"),
    "scm-version": (bool, "the version comes from git: builds pretend one (0.0.0)"),
    "test-dependencies": (list, "group:G, extra:E or requirement files for the tests"),
    "extra-packages": (list, "packages the runtime needs and the project lacks"),
    "extra-test-packages": (list, "packages the tests need and the project lacks"),
    "framework": (str, "fastapi, litestar, flask, django or none"),
    "app": (str, "the ASGI/WSGI app: module:attr or module:factory()"),
    "port": (int, "the port the app listens on"),
    "services": (list, "backing services: postgres, mariadb, redis, rabbitmq, memcached, ..."),
    "prepare": (str, "the one-shot step before start and tests"),
    "test-command": (str, "the test suite's command"),
    "test-setup": (list, "shell lines the test image runs at build, as root (CI's steps)"),
    "workspace": (list, "uv: the workspace's member folders, installed with the root"),
    "context-ignore": (list, "the project's .dockerignore rules shipyard's builds keep"),
    "build-packages": (list, "apt packages to build wheels (builder stage only)"),
    "runtime-packages": (list, "apt packages the app needs at run time"),
    "python-path": (list, "where the code is imported from when not installed"),
    "secrets": (list, "contract variables that are secrets"),
    "optional-env": (list, "variables the code runs without: documented, not passed"),
    "writable": (list, "what the app writes under its folder: 'logs/' (a folder) or 'app.log'"),
    "workers": (dict, 'long-running processes beside the app: name = command ("" drops one)'),
    "health-path": (
        str,
        "the app's health route (must answer < 400; else GET / must answer < 500)",
    ),
    "ci": (list, "the CI pipelines to write: github, gitlab (both, or [] for none)"),
    "ci-install": (str, "what CI pip-installs for shipyard (a requirement or URL)"),
    "ci-branch": (str, "the default branch: pushes to it run the pipeline and release"),
    "skip": (list, "files init never writes (the project keeps its own)"),
    "env": (dict, "the contract: variables the code reads, with example values"),
    "environment": (dict, "what the app's containers see beyond the contract"),
}
TOOLCHAINS = ("uv", "poetry", "pip")
FRAMEWORKS = ("fastapi", "litestar", "flask", "django", "none")
SERVICES = ("postgres", "mariadb", "redis", "rabbitmq", "memcached", "mongodb", "elasticsearch")
# Written from their public images, never run by shipyard's own tests.
UNTRIED = {"mongodb": "mongo:8", "elasticsearch": "elasticsearch:8.17.0"}


def check(table: Mapping[str, Any], where: str) -> None:
    """Raise ConfigError for an unknown key, a value of the wrong type or an unknown choice."""
    unknown = sorted(set(table) - set(INIT_KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key(s) in {where}: {', '.join(unknown)}",
            tip=f"known keys: {', '.join(INIT_KEYS)}",
        )
    for key, value in table.items():
        kind = INIT_KEYS[key][0]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ConfigError(
                f"{where} {key} must be a {kind.__name__} ({INIT_KEYS[key][1]}), not {value!r}",
                tip=f"fix {key} in {where}",
            )
    for key, allowed in (("toolchain", TOOLCHAINS), ("framework", FRAMEWORKS)):
        if key in table and table[key] not in allowed:
            raise ConfigError(
                f"{where} {key} = {table[key]!r} is not one of {', '.join(allowed)}",
                tip=f"set {key} to one of them",
            )
    outside = [w for w in table.get("writable", []) if not _under_app(w)]
    if outside:
        raise ConfigError(
            f"{where} writable: {', '.join(outside)} is not a path under the project",
            tip="give it relative to the project's folder: 'logs/' for a folder, 'app.log'",
        )
    workers = table.get("workers", {})
    bad_names = sorted(
        n for n in workers if n in render.RESERVED_SERVICES or not re.fullmatch(r"[a-z0-9_-]+", n)
    )
    if bad_names:
        raise ConfigError(
            f"{where} workers: {', '.join(bad_names)} cannot name a service (init's own, or "
            "not lower-case letters, digits, '-' and '_')",
            tip="rename it, e.g. worker, beat, scheduler",
        )
    unknown_ci = sorted(set(table.get("ci", [])) - set(pipelines.CI_SYSTEMS))
    if unknown_ci:
        raise ConfigError(
            f"{where} ci: unknown {', '.join(unknown_ci)}",
            tip=f"list {' and/or '.join(pipelines.CI_SYSTEMS)}, or [] for no pipeline",
        )
    bad = sorted(set(table.get("services", [])) - set(SERVICES))
    if bad:
        raise ConfigError(
            f"{where} services: unknown {', '.join(bad)}",
            tip=f"shipyard init knows {', '.join(SERVICES)}; add others to compose/ by hand",
        )


def _under_app(path: str) -> bool:
    """Tell whether ``path`` names a file or folder below the project (no '..', not absolute)."""
    return bool(re.fullmatch(r"[\w.-]+(/[\w.-]+)*/?", path)) and ".." not in path.split("/")
