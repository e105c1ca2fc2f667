"""Nox session bodies that any project's noxfile can reuse.

They run processes through shipyard's own runner (streaming, echoed) and turn
a ShipyardError into ``session.error`` with the ``ERROR``/``TIP`` text, so a
failing session never ends in a traceback.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shipyard import actions, engine
from shipyard.compose import compose_command, display_path
from shipyard.errors import ShipyardError
from shipyard.process import SubprocessRunner

if TYPE_CHECKING:
    import nox

SessionBody = Callable[["nox.Session"], None]


def _workspace() -> actions.Workspace:
    return actions.open_workspace(SubprocessRunner())


def nox_edge(body: SessionBody) -> SessionBody:
    """Run ``body``; a ShipyardError fails the session with its rendered message."""

    @functools.wraps(body)
    def run(session: nox.Session) -> None:
        try:
            body(session)
        except ShipyardError as exc:
            session.error("\n" + engine.diagnose(exc, SubprocessRunner(echo=False)).render())

    return run


@nox_edge
def docker_build(session: nox.Session) -> None:
    """Build the targets named in posargs, or every target an environment runs."""
    ws = _workspace()
    targets = session.posargs or list(ws.stack.build_targets())
    for tag in actions.build(ws, targets):
        session.log(f"built {tag}")


@nox_edge
def docker_test(session: nox.Session) -> None:
    """Run the service's tests inside the test image; exit with pytest's status.

    posargs go to pytest (``nox -s docker-test -- -k name -x``). A failing
    pytest ends the whole nox run with pytest's own exit status, as CI expects.
    """
    status = actions.docker_test(_workspace(), session.posargs)
    if status:
        session.log(f"pytest exited {status} inside the test image")
        raise SystemExit(status)


def compose_problems(model: dict[str, Any], env: str) -> list[str]:
    """Check one environment's merged Compose model against shipyard's rules.

    Every long-running service has a health check, and every dependency waits
    for a condition (healthy, or a job completed successfully), never for
    a container that has merely started.
    """
    problems = []
    services: dict[str, Any] = model.get("services", {})
    jobs = {
        name
        for spec in services.values()
        for name, dep in (spec.get("depends_on") or {}).items()
        if dep.get("condition") == "service_completed_successfully"
    }
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


def _lint_env_file(stack_env_dir: Path, env: str) -> Path:
    for name in (f".env.{env}", f".env.{env}.example", ".env.example"):
        if (stack_env_dir / name).is_file():
            return stack_env_dir / name
    return stack_env_dir / ".env.example"


@nox_edge
def lint_compose(session: nox.Session) -> None:
    """Validate every overlay with ``docker compose config`` and shipyard's rules."""
    ws = _workspace()
    problems: list[str] = []
    for env in ws.stack.environments:
        env_file = _lint_env_file(ws.stack.env_dir, env)
        argv = compose_command(
            ws.engine, ws.stack, env, "config", "--format", "json", env_files=[env_file]
        )
        result = ws.runner.run(argv, capture=True, query=True)
        problems += compose_problems(json.loads(result.stdout), env)
        session.log(
            f"{env}: {display_path(env_file)} + {len(ws.stack.compose_files(env))} files ok"
        )
    if problems:
        raise ShipyardError(
            f"{len(problems)} compose problem(s)",
            details="\n".join(problems),
            tip="add a healthcheck, and 'condition: service_healthy' to each depends_on",
        )
