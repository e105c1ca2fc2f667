"""What this machine's Docker can do: buildx or in-client BuildKit, and which Compose.

Detection only reads (``docker buildx version``, ``docker compose version``)
and works with the engine down; ``[tool.shipyard] builder``/``compose`` (or
``SHIPYARD_BUILDER``/``SHIPYARD_COMPOSE``) skip it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from shipyard.errors import CommandFailed, EngineError, ShipyardError
from shipyard.process import Runner

BUILDERS = ("auto", "buildx", "docker")


@dataclass(frozen=True)
class Engine:
    """The commands to build with and to run Compose with."""

    buildx: bool
    compose: tuple[str, ...]

    def build_argv(self) -> list[str]:
        """Return the start of a build command that uses BuildKit."""
        return ["docker", "buildx", "build", "--load"] if self.buildx else ["docker", "build"]

    def build_env(self) -> dict[str, str]:
        """Return the environment a build needs (BuildKit in the classic client)."""
        return {} if self.buildx else {"DOCKER_BUILDKIT": "1"}


def detect_engine(runner: Runner, *, builder: str = "auto", compose: str = "auto") -> Engine:
    """Resolve ``builder`` and ``compose`` settings, probing only what is ``auto``."""
    if builder not in BUILDERS:
        raise ShipyardError(
            f"unknown builder {builder!r}",
            tip=f"set builder to one of {', '.join(BUILDERS)} in [tool.shipyard]",
        )
    if builder == "auto":
        probe = runner.run(["docker", "buildx", "version"], capture=True, check=False, query=True)
        use_buildx = probe.ok
    else:
        use_buildx = builder == "buildx"
    if compose != "auto":
        return Engine(buildx=use_buildx, compose=tuple(shlex.split(compose)))
    for candidate in (("docker", "compose"), ("docker-compose",)):
        try:
            found = runner.run([*candidate, "version"], capture=True, check=False, query=True).ok
        except EngineError:
            found = False
        if found:
            return Engine(buildx=use_buildx, compose=candidate)
    raise EngineError(
        "Docker Compose was not found (neither 'docker compose' nor 'docker-compose')",
        tip="install the Docker Compose v2 plugin (Docker Desktop ships it), "
        "or set compose in [tool.shipyard]",
    )


def diagnose(error: ShipyardError, runner: Runner) -> ShipyardError:
    """Replace a failed docker command's error with "engine down" when that is the cause.

    Streamed commands print their stderr straight to the terminal, so instead
    of parsing it this asks the engine itself (``docker info``).
    """
    if not isinstance(error, CommandFailed) or error.argv[0] not in {"docker", "docker-compose"}:
        return error
    info = runner.run(
        ["docker", "info", "--format", "{{.ServerVersion}}"], capture=True, check=False, query=True
    )
    if info.ok:
        return error
    reason = (info.stderr or info.stdout).strip().splitlines()
    return EngineError(
        "the Docker engine is not reachable" + (f": {reason[-1]}" if reason else ""),
        tip="start Docker Desktop (or the docker service on Linux), check that "
        "'docker info' works, then run the same command again",
    )
