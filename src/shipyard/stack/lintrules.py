"""Rules `nox -s lint` enforces on a stack's compose files, Dockerfile and env templates."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shipyard.core.compose import job_services, load_yaml
from shipyard.core.config import Stack
from shipyard.core.errors import ConfigError
from shipyard.core.workspace import Workspace, display_path
from shipyard.env import envfiles, envops
from shipyard.env.envfiles import ParsedEnv
from shipyard.env.environment import images_of, read_model
from shipyard.env.explain import looks_secret, references
from shipyard.stack import dockerignore


def compose_problems(model: dict[str, Any], env: str) -> list[str]:
    """Check one environment's merged Compose model.

    Every long-running service has a health check, and every dependency waits
    for a condition (healthy, or a job completed successfully), never for
    a container that has merely started.
    """
    problems = []
    services: dict[str, Any] = model.get("services", {})
    jobs = job_services(services)
    for name, spec in sorted(services.items()):
        check = spec.get("healthcheck") or {}
        if name not in jobs and not spec.get("profiles") and (not check or check.get("disable")):
            problems.append(f"{env}: service {name!r} has no health check")
        for dep, rule in sorted((spec.get("depends_on") or {}).items()):
            if rule.get("condition") not in {"service_healthy", "service_completed_successfully"}:
                problems.append(
                    f"{env}: {name!r} depends on {dep!r} without "
                    "'condition: service_healthy' (or service_completed_successfully for a job)"
                )
    return problems


def _environment(spec: dict[str, Any]) -> list[tuple[str, str | None]]:
    environment = spec.get("environment")
    if isinstance(environment, dict):
        return [(str(k), None if v is None else str(v)) for k, v in environment.items()]
    if isinstance(environment, list):
        return [
            (p[0], p[1] if len(p) > 1 else None)
            for p in (str(i).split("=", 1) for i in environment)
        ]
    return []


def compose_secret_problems(path: Path, secrets: frozenset[str]) -> list[str]:
    """Find secrets written into a compose file, and secret variables that may end up empty.

    A secret-looking variable (by name, or a ``@secret`` key of the contract)
    must come from ``${VAR:?message}``: a literal value is a secret in git, and
    ``${VAR}``/``${VAR:-x}`` silently becomes empty or a default.
    """
    try:
        data = load_yaml(path)
    except ConfigError as exc:
        return [exc.message]
    problems = []
    where = display_path(path)
    for service, spec in sorted((data.get("services") or {}).items()):
        for key, value in _environment(spec or {}):
            refs = references(value) if value else []
            if value and not refs and (looks_secret(key) or key in secrets):
                problems.append(
                    f"{where}: {service}.environment.{key} is a literal secret: "
                    f"use ${{{key}:?set {key} in env/.env.<env>}}"
                )
            for name, op, _ in refs:
                if (name in secrets or looks_secret(name)) and op != ":?":
                    problems.append(
                        f"{where}: {service}.environment.{key} reads ${name} without ':?': "
                        f"a missing value would start the stack with an empty secret"
                    )
    return problems


_ARG_OR_ENV = re.compile(r"^\s*(ARG|ENV)\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE | re.MULTILINE)


def dockerfile_problems(path: Path) -> list[str]:
    """Find build arguments or ENV that carry secrets (they land in history and config)."""
    text = path.read_text(encoding="utf-8")
    return [
        f"{display_path(path)}:{text[: m.start()].count(chr(10)) + 1}: {m.group(1).upper()} "
        f"{m.group(2)} looks like a secret: pass it with a BuildKit secret mount "
        "(RUN --mount=type=secret) and [tool.shipyard.build-secrets]"
        for m in _ARG_OR_ENV.finditer(text)
        if looks_secret(m.group(2))
    ]


def template_problems(contract: ParsedEnv, template: ParsedEnv) -> list[str]:
    """Find keys that drifted between the contract and a committed template or env file."""
    where = display_path(template.path)
    missing = sorted(set(contract.values) - set(template.values))
    extra = sorted(set(template.values) - set(contract.values))
    return [f"{where}: {key} is missing (the contract has it)" for key in missing] + [
        f"{where}:{template.values[key].line}: {key} is not in the contract" for key in extra
    ]


def context_problem(context: Path, env_dir: Path, dockerfile: Path | None = None) -> str | None:
    """Find a build that would send the env files (and their secrets) to the engine."""
    try:
        inside = env_dir.resolve().relative_to(context.resolve()).as_posix()
    except ValueError:
        return None  # env/ lies outside the context: never sent
    probe = f"{inside}/.env.dev" if inside != "." else ".env.dev"
    if dockerignore.excluded(probe, dockerignore.read(context, dockerfile)):
        return None
    rules = dockerignore.ignore_file(context, dockerfile)
    return (
        f"{display_path(context)}: the build context sends {probe} (and every env file) to "
        f"the engine: add '{inside}/' to {display_path(rules)}"
    )


def _lint_env_file(stack: Stack, env: str) -> Path:
    """Return the env file `docker compose config` reads for ``env`` during lint."""
    for name in (f".env.{env}", f".env.{env}.example", envfiles.EXAMPLE):
        if (stack.env_dir / name).is_file():
            return stack.env_dir / name
    return stack.env_dir / envfiles.EXAMPLE


def lint_stack(ws: Workspace, *, log: Callable[[str], object]) -> tuple[list[str], list[Path]]:
    """Run every stack rule; return the problems (empty when clean) and the Dockerfiles."""
    stack = ws.stack
    example = stack.env_dir / envfiles.EXAMPLE
    contract = envfiles.parse_env_file(example) if example.is_file() else None
    secrets = contract.secrets if contract else frozenset()
    problems: list[str] = []
    dockerfiles: set[Path] = set()
    builds: set[tuple[Path, Path]] = set()  # (context, Dockerfile): its ignore file
    for env in stack.environments:
        env_file = _lint_env_file(stack, env)
        model = read_model(ws, env, stack.compose_files(env), [env_file])
        problems += compose_problems(model, env)
        try:
            dockerfiles |= {image.dockerfile for image in images_of(model)}
            builds |= {(image.context, image.dockerfile) for image in images_of(model)}
        except ConfigError as exc:
            problems.append(f"{env}: {exc.message}")
        log(f"compose config ok for {env} (with {display_path(env_file)})")
    for path in [stack.base_compose_file, *(stack.compose_files(e)[1] for e in stack.environments)]:
        problems += compose_secret_problems(path, secrets)
    for dockerfile in sorted(dockerfiles):
        problems += dockerfile_problems(dockerfile)
    problems += sorted({p for c, d in builds if (p := context_problem(c, stack.env_dir, d))})
    if contract:
        templates = sorted(stack.env_dir.glob(".env.*.example"))
        problems += [
            p for t in templates for p in template_problems(contract, envfiles.parse_env_file(t))
        ]
    for env, found in envops.env_check(ws, envops.envs_with_files(stack)).items():
        problems += [str(problem) for problem in found]
        log(f"env files of {env}: {len(found)} problem(s)")
    return problems, sorted(dockerfiles)
