"""Discover the stack: convention first, then ``[tool.shipyard]``, then environment, then flags.

One precedence for every setting: command-line flag > ``SHIPYARD_<KEY>``
environment variable > ``[tool.shipyard]`` in pyproject.toml > convention.
Environments are the overlays ``compose/docker-compose.<env>.yml``. Images,
Dockerfiles and targets are not settings: Compose owns them (each service's
``build:`` and ``image:``), see :mod:`shipyard.env.environment`.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.core.errors import ConfigError, did_you_mean

CA_BUNDLE_VARIABLES = ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE")

CONVENTIONS: dict[str, str] = {
    "compose-dir": "compose",
    "env-dir": "env",
    "builder": "auto",
    "compose": "auto",
    "timeout": "180",
    "test-env": "test",
    "test-service": "tests",
    "results-dir": "results",
    "cache-push": "false",  # CI sets SHIPYARD_CACHE_PUSH=1 to share its layers
    # How `inv deploy` lets Swarm services find each other: "vip" (Swarm's
    # virtual IPs and routing mesh) or "dnsrr" (DNS round-robin, ports
    # published on the node itself) for kernels without IPVS or an outside
    # load balancer.
    "swarm-endpoint-mode": "vip",
}
ENDPOINT_MODES = ("vip", "dnsrr")
# Lists: comma-separated in SHIPYARD_<KEY> and flags, TOML arrays in pyproject.toml.
LIST_CONVENTIONS: dict[str, tuple[str, ...]] = {
    "strict-envs": ("prod", "ci"),  # secrets there must not be empty, placeholders or examples
    "committed-envs": ("ci",),  # env files committed on purpose (throwaway values)
    "env-extra-keys": (),  # keys allowed beyond the contract in env/.env.example
    # Services (on `inv deploy`) whose images read no <VAR>_FILE: their secret
    # files become variables in the container, set by a shell before the
    # image's own entrypoint (still never in the service spec).
    "swarm-env-secrets": (),
}
KEYS = frozenset(
    {
        *CONVENTIONS,
        *LIST_CONVENTIONS,
        "project",
        "ca-bundle",
        "coverage",
        "cache-ref",
        "registry",
        "build-secrets",
        "init",  # what `shipyard init` generates from (see shipyard.adopt.plan)
    }
)
SETTINGS_FILE = "shipyard.toml"  # for projects without pyproject.toml: top-level keys
# Settings of the one-image model, now read from each service's `build:` in Compose.
MOVED_TO_COMPOSE = {
    "image": "give each built service 'image: name:tag' in compose/",
    "dockerfile": "set 'build: {dockerfile: ...}' on the services in compose/",
    "context": "set 'build: {context: ...}' on the services in compose/",
    "targets": "set 'build: {target: ...}' per environment in compose/docker-compose.<env>.yml",
}

_OVERLAY = re.compile(r"^docker-compose\.([a-z0-9][a-z0-9_-]*)\.ya?ml$")


def env_var(key: str) -> str:
    """Return the environment variable that overrides ``key`` (``compose-dir`` → ...)."""
    return "SHIPYARD_" + key.upper().replace("-", "_")


def project_slug(name: str) -> str:
    """Make ``name`` a valid Compose project name (lowercase, [a-z0-9_-])."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")
    return slug or "app"


@dataclass(frozen=True)
class Stack:
    """Everything shipyard knows about one project's container stack."""

    root: Path
    project: str
    compose_dir: Path
    env_dir: Path
    builder: str
    compose: str
    timeout: float
    test_env: str
    test_service: str
    results_dir: Path
    ca_bundle: Path | None
    environments: tuple[str, ...]
    coverage: str | None
    cache_ref: str | None
    cache_push: bool
    registry: str | None = None  # host:port/namespace that `inv push` pushes to
    endpoint_mode: str = "vip"  # Swarm services: "vip" or "dnsrr" (see CONVENTIONS)
    build_secrets: Mapping[str, str] = field(default_factory=dict)
    strict_envs: tuple[str, ...] = LIST_CONVENTIONS["strict-envs"]
    committed_envs: tuple[str, ...] = LIST_CONVENTIONS["committed-envs"]
    env_extra_keys: tuple[str, ...] = ()
    swarm_env_secrets: tuple[str, ...] = ()
    sources: Mapping[str, str] = field(default_factory=dict)

    def check_env(self, env: str) -> str:
        """Return ``env`` if the stack has it, else raise a ConfigError listing those it has."""
        if env not in self.environments:
            known = ", ".join(self.environments) or "none"
            raise ConfigError(
                f"unknown environment {env!r}{did_you_mean(env, self.environments)} "
                f"(this stack has: {known})",
                tip=f"use one of those, or add {self.compose_dir.name}/docker-compose.{env}.yml",
            )
        return env

    def compose_files(self, env: str) -> tuple[Path, Path]:
        """Return the base file and the overlay of ``env``."""
        self.check_env(env)
        overlay = next(
            p
            for p in (self.compose_dir / f"docker-compose.{env}.{ext}" for ext in ("yml", "yaml"))
            if p.is_file()
        )
        return self.base_compose_file, overlay

    @property
    def checkout(self) -> str:
        """Return this checkout's id: two copies of a project on one engine never share it."""
        return hashlib.sha256(str(self.root.resolve()).encode()).hexdigest()[:10]

    @property
    def base_compose_file(self) -> Path:
        """Return compose/docker-compose.yml (or .yaml)."""
        yaml_file = self.compose_dir / "docker-compose.yaml"
        return yaml_file if yaml_file.is_file() else self.compose_dir / "docker-compose.yml"


def _holds_settings(folder: Path) -> bool:
    if (folder / SETTINGS_FILE).is_file():
        return True
    pyproject = folder / "pyproject.toml"
    try:
        return "[tool.shipyard" in pyproject.read_text(encoding="utf-8")
    except OSError:
        return False


def find_root(start: Path) -> Path:
    """Return the project folder for ``start``: the nearest one holding shipyard's settings.

    That is shipyard.toml or a pyproject.toml with ``[tool.shipyard]``; a
    service's own pyproject.toml below it (``app/``) is not the project.
    Without settings anywhere above: the nearest folder with
    ``compose/docker-compose.yml``, else with a pyproject.toml.
    """
    folders = (start, *start.parents)
    for matches in (
        _holds_settings,
        lambda folder: (folder / "compose" / "docker-compose.yml").is_file(),
        lambda folder: (folder / "pyproject.toml").is_file(),
    ):
        found = next((folder for folder in folders if matches(folder)), None)
        if found is not None:
            return found
    return start


def read_toml(path: Path) -> dict[str, Any]:
    """Return a TOML file's tables ({} when it is missing); a syntax error is a ConfigError."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}", tip="fix the file") from None


def read_settings(root: Path) -> tuple[Path, dict[str, Any]]:
    """Return where the settings live and what they say.

    ``shipyard.toml`` (top-level keys) when the project has one, for projects
    whose pip build a pyproject.toml would change; else ``[tool.shipyard]``.
    """
    own = root / SETTINGS_FILE
    if own.is_file():
        return own, read_toml(own)
    return root / "pyproject.toml", read_toml(root / "pyproject.toml").get("tool", {}).get(
        "shipyard", {}
    )


def _read_pyproject(root: Path) -> tuple[dict[str, Any], str | None]:
    data = read_toml(root / "pyproject.toml")
    _, tool = read_settings(root)
    moved = sorted(set(tool) & set(MOVED_TO_COMPOSE))
    if moved:
        raise ConfigError(
            f"[tool.shipyard] {', '.join(moved)}: images are declared in Compose now",
            tip="; ".join(MOVED_TO_COMPOSE[key] for key in moved)
            + ", then remove the key from [tool.shipyard]",
        )
    unknown = sorted(set(tool) - KEYS)
    if unknown:
        hints = "".join(did_you_mean(key, sorted(KEYS)) for key in unknown)
        raise ConfigError(
            f"unknown key(s) in {settings_name(root)}: {', '.join(unknown)}{hints}",
            tip=f"known keys: {', '.join(sorted(KEYS))}",
        )
    name = data.get("project", {}).get("name")
    return tool, name if isinstance(name, str) else None


def settings_name(root: Path) -> str:
    """Return how to name the settings to a user: ``shipyard.toml`` or ``[tool.shipyard]``."""
    return SETTINGS_FILE if (root / SETTINGS_FILE).is_file() else "[tool.shipyard]"


def _table(tool: Mapping[str, object], key: str, example: str) -> dict[str, str]:
    table = tool.get(key, {})
    if not isinstance(table, dict):
        raise ConfigError(
            f"[tool.shipyard] {key} must be a table of name = value",
            tip=f"e.g. [tool.shipyard.{key}] then {example}",
        )
    return {str(k): str(v) for k, v in table.items()}


def _list_value(
    key: str,
    flags: Mapping[str, str | None],
    environ: Mapping[str, str],
    tool: Mapping[str, object],
    sources: dict[str, str],
) -> tuple[str, ...]:
    for source, text in (("flag", flags.get(key)), (env_var(key), environ.get(env_var(key)))):
        if text is not None:
            sources[key] = source
            return tuple(item.strip() for item in text.split(",") if item.strip())
    if key in tool:
        value = tool[key]
        if not isinstance(value, list):
            raise ConfigError(
                f"[tool.shipyard] {key} must be a list", tip=f'e.g. {key} = ["prod", "ci"]'
            )
        sources[key] = "pyproject.toml"
        return tuple(str(item) for item in value)
    sources[key] = "convention"
    return LIST_CONVENTIONS[key]


def _seconds(text: str, source: str) -> float:
    """Return a positive number of seconds, or a ConfigError naming where it was set."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not seconds > 0:  # also NaN
        raise ConfigError(
            f"timeout must be a positive number of seconds, not {text!r} (from {source})",
            tip="set e.g. timeout = 180",
        )
    return seconds


def _project_source(source: str, project_name: str | None) -> str:
    """Say where a conventional name came from: a project named after its folder surprises."""
    if source != "convention":
        return source
    return "[project].name in pyproject.toml" if project_name else "the folder's name"


def load_stack(
    start: Path | None = None,
    *,
    flags: Mapping[str, str | None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Stack:
    """Discover the stack above ``start`` (default: the current folder).

    ``flags`` are command-line values (None: not given); ``environ`` defaults to
    ``os.environ`` and is only read.
    """
    root = find_root((start or Path.cwd()).resolve())
    environ = os.environ if environ is None else environ
    flags = flags or {}
    tool, project_name = _read_pyproject(root)
    where = read_settings(root)[0].name  # pyproject.toml or shipyard.toml
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    convention = {**CONVENTIONS, "project": project_name or root.name}
    for key in (*CONVENTIONS, "project", "ca-bundle", "coverage", "cache-ref", "registry"):
        candidates = (
            ("flag", flags.get(key)),
            (env_var(key), environ.get(env_var(key))),
            (where, tool.get(key)),
            ("convention", convention.get(key)),
        )
        for source, value in candidates:
            if value is not None and value != "":
                values[key], sources[key] = str(value), source
                break
    project = project_slug(values["project"])
    sources["project"] = _project_source(sources["project"], project_name)
    if "ca-bundle" not in values:
        for variable in CA_BUNDLE_VARIABLES:
            if environ.get(variable):
                values["ca-bundle"], sources["ca-bundle"] = environ[variable], variable
                break

    compose_dir = root / values["compose-dir"]
    base = compose_dir / "docker-compose.yml"
    if not base.is_file() and not (compose_dir / "docker-compose.yaml").is_file():
        raise ConfigError(
            f"no {base.relative_to(root)} under {root}",
            tip="run shipyard from the project folder, or set compose-dir in [tool.shipyard]",
        )
    environments = sorted(
        {m.group(1) for p in compose_dir.iterdir() if (m := _OVERLAY.match(p.name))}
    )
    timeout = _seconds(values["timeout"], sources["timeout"])
    endpoint_mode = values["swarm-endpoint-mode"]
    if endpoint_mode not in ENDPOINT_MODES:
        raise ConfigError(
            f"swarm-endpoint-mode is {endpoint_mode!r} ({sources['swarm-endpoint-mode']}): "
            "not a Swarm endpoint mode",
            tip='use "vip" (the default) or "dnsrr" (no IPVS on the nodes, or your own '
            "load balancer)",
        )
    build_secrets = _table(tool, "build-secrets", 'uv_index_password = "UV_INDEX_PRIVATE_PASSWORD"')
    lists = {key: _list_value(key, flags, environ, tool, sources) for key in LIST_CONVENTIONS}
    if where != "pyproject.toml":
        sources = {k: where if v == "pyproject.toml" else v for k, v in sources.items()}
    ca_bundle = values.get("ca-bundle")
    return Stack(
        root=root,
        project=project,
        compose_dir=compose_dir,
        env_dir=root / values["env-dir"],
        builder=values["builder"],
        compose=values["compose"],
        timeout=timeout,
        test_env=values["test-env"],
        test_service=values["test-service"],
        results_dir=root / values["results-dir"],
        ca_bundle=Path(ca_bundle) if ca_bundle else None,
        environments=tuple(environments),
        coverage=values.get("coverage"),
        cache_ref=values.get("cache-ref"),
        cache_push=values["cache-push"].lower() in {"1", "true", "yes", "on"},
        registry=(values.get("registry") or "").rstrip("/") or None,
        endpoint_mode=endpoint_mode,
        build_secrets=build_secrets,
        strict_envs=lists["strict-envs"],
        committed_envs=lists["committed-envs"],
        env_extra_keys=lists["env-extra-keys"],
        swarm_env_secrets=lists["swarm-env-secrets"],
        sources=sources,
    )
