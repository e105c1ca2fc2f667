"""What the env tasks do: create, check and explain an environment's env files."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from shipyard.core.config import Stack
from shipyard.core.errors import ConfigError
from shipyard.core.workspace import Workspace, display_path, git_ignored
from shipyard.env import datavolumes, envcheck, envfiles, explain
from shipyard.env.environment import Environment, resolve


def env_init(ws: Workspace, env: str, *, force: bool = False) -> Path:
    """Create ``env/.env.<env>`` from its template with fresh secrets (``force`` replaces it)."""
    stack = ws.stack
    stack.check_env(env)
    target = stack.env_dir / f".env.{env}"
    if target.exists() and not force:
        raise ConfigError(
            f"{display_path(target)} exists already",
            tip=f"keep it, or run 'inv env-init --env {env} --force' to start over "
            "(its values are lost)",
        )
    own = stack.env_dir / f".env.{env}.example"
    template = own if own.is_file() else stack.env_dir / envfiles.EXAMPLE
    if not template.is_file():
        raise ConfigError(
            f"there is no {display_path(template)} to create {display_path(target)} from",
            tip="write the contract: every KEY=value the stack reads, secrets under '# @secret'",
        )
    replaced = target.exists()
    envfiles.write_env_file(target, template, dry=ws.runner.dry)
    if replaced and not ws.runner.dry:
        environment = resolve(ws, env, create=False)
        mismatches = datavolumes.changed(ws, environment)
        if mismatches:
            ws.say(
                f"WARNING: the {env} stack's data was created with the old values; it will not "
                f"start until you put them back in {display_path(target)} or delete the data "
                f"('{datavolumes.down_command(env)}'):\n{datavolumes.describe(mismatches)}"
            )
    return target


def env_check(ws: Workspace, envs: Sequence[str]) -> dict[str, list[envcheck.Problem]]:
    """Check each environment's env files; return the problems of each."""
    ignored = git_ignored(ws)
    return {env: envcheck.check_environment(ws.stack, env, ignored=ignored) for env in envs}


def envs_with_files(stack: Stack) -> list[str]:
    """Return the environments that have an env file."""
    return [env for env in stack.environments if envfiles.layer_files(stack, env)]


def env_explain(
    ws: Workspace, environment: Environment, key: str | None = None
) -> list[explain.Explained]:
    """Explain every variable each service of ``environment`` sees (only ``key`` when given)."""
    services = environment.services
    env = environment.name
    image_env: dict[str, list[str]] = {}
    for image in sorted({str(s.get("image", "")) for s in services.values()} - {""}):
        found = ws.runner.run(
            ["docker", "image", "inspect", "--format", "{{json .Config.Env}}", image],
            capture=True,
            check=False,
            query=True,
        )
        if found.ok:
            image_env[image] = json.loads(found.stdout or "[]") or []
    rows = explain.explain(
        service_models=services,
        compose_files=list(environment.files),
        env_files=list(environment.env_files),
        contract_dir=ws.stack.env_dir,
        shell=os.environ,
        image_env=image_env,
    )
    if key is None:
        return rows
    chosen = [row for row in rows if row.key == key]
    if not chosen:
        raise ConfigError(
            f"no service of the {env} stack sees {key}",
            tip=f"run 'inv env-explain --env {env}' to list every variable",
        )
    return chosen
