"""Tasks for env files: ``env-init``, ``env-check``, ``env-explain``."""

from __future__ import annotations

from dataclasses import asdict
from json import dumps
from typing import TYPE_CHECKING

from invoke.context import Context

from shipyard.tasks._edge import shipyard_task, workspace
from shipyard.tasks._lazy import lazy

if TYPE_CHECKING:
    from shipyard.env import envcheck, envops, explain
    from shipyard.env import environment as environments
else:
    envcheck = lazy("shipyard.env.envcheck")
    envops = lazy("shipyard.env.envops")
    environments = lazy("shipyard.env.environment")
    explain = lazy("shipyard.env.explain")

__all__ = ["env_check", "env_explain", "env_init"]


@shipyard_task(help={"env": "environment (default: dev)", "force": "replace an existing file"})
def env_init(c: Context, env: str = "dev", force: bool = False) -> None:
    """Create env/.env.<env> from its template, with fresh random values for @secret keys."""
    ws = workspace(c)
    target = envops.env_init(ws, env, force=force)
    if not ws.runner.dry:
        print(f"created {target} (mode 0600): review it, secrets are freshly generated")


@shipyard_task(
    help={
        "env": "one environment (default: every one that has an env file)",
        "json": "print each environment's problems as JSON, for scripts",
    }
)
def env_check(c: Context, env: str = "", json: bool = False) -> None:
    """Check env files against the contract: keys, typos, placeholders, git-ignored secrets."""
    ws = workspace(c)
    results = envops.env_check(ws, [env] if env else envops.envs_with_files(ws.stack))
    problems = [str(problem) for found in results.values() for problem in found]
    if json:
        print(
            dumps({name: [asdict(p) for p in found] for name, found in results.items()}, indent=2)
        )
    else:
        for name, found in results.items():
            if not found:
                print(f"{name}: ok")
    if problems:
        raise envcheck.EnvCheckFailed(
            f"{len(problems)} problem(s) in the env files",
            details="" if json else "\n".join(problems),
            tip="fix each line above, then run 'inv env-check' again"
            if not json
            else "fix each problem listed, then run 'inv env-check' again",
        )


@shipyard_task(
    help={
        "env": "environment (default: dev)",
        "key": "one variable, with every source",
        "json": "print JSON for scripts",
    }
)
def env_explain(c: Context, env: str = "dev", key: str = "", json: bool = False) -> None:
    """Show each variable every service sees (secrets redacted) and which source won."""
    ws = workspace(c)
    rows = envops.env_explain(ws, environments.resolve(ws, env), key or None)
    print(explain.to_json(env, rows) if json else explain.to_text(rows, key=key or None))
