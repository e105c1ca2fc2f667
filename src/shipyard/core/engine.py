"""What this machine's Docker can do: buildx or in-client BuildKit, and which Compose.

Detection only reads (``docker buildx version``/``inspect``, ``docker compose version``)
and works with the engine down; ``[tool.shipyard] builder``/``compose`` (or
``SHIPYARD_BUILDER``/``SHIPYARD_COMPOSE``) skip it.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from shipyard.core.cache import digest, file_part, read, stat_part, write
from shipyard.core.errors import CommandFailed, EngineError, ShipyardError
from shipyard.core.process import Result, Runner

BUILDERS = ("auto", "buildx", "docker")


@dataclass(frozen=True)
class Engine:
    """The commands to build with and to run Compose with.

    ``driver`` is buildx's driver for the current builder (``docker``,
    ``docker-container``, ...); the ``docker`` driver builds into the engine's
    image store but cannot export a build cache.
    """

    buildx: bool
    compose: tuple[str, ...]
    driver: str = ""

    @property
    def exports_cache(self) -> bool:
        """True when ``--cache-to type=registry`` works (buildx with a non-``docker`` driver)."""
        return self.buildx and self.driver not in {"", "docker"}  # "": never probed

    def build_env(self) -> dict[str, str]:
        """Return the environment a build needs (BuildKit in the classic client)."""
        return {} if self.buildx else {"DOCKER_BUILDKIT": "1"}


def detect_engine(
    runner: Runner, *, builder: str = "auto", compose: str = "auto", cache: bool = True
) -> Engine:
    """Resolve ``builder`` and ``compose`` settings, probing only what is ``auto``.

    buildx's driver matters only to share a build cache (``cache``: a
    cache-ref is set); without one its probe is skipped.
    """
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
    driver = buildx_driver(runner) if use_buildx and cache else ""
    if compose != "auto":
        return Engine(buildx=use_buildx, compose=tuple(shlex.split(compose)), driver=driver)
    for candidate in (("docker", "compose"), ("docker-compose",)):
        try:
            found = runner.run([*candidate, "version"], capture=True, check=False, query=True).ok
        except EngineError:
            found = False
        if found:
            return Engine(buildx=use_buildx, compose=candidate, driver=driver)
    raise EngineError(
        "Docker Compose was not found (neither 'docker compose' nor 'docker-compose')",
        tip="install the Docker Compose v2 plugin (Docker Desktop ships it), "
        "or set compose in [tool.shipyard]",
    )


PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)


def _probe_key(builder: str, compose: str, *, cache: bool) -> str:
    """Return the digest of what detection depends on: the settings, the client, its plugins.

    The client found on PATH, the plugin folders (a plugin added, removed or
    replaced changes its folder), the context and the buildx builder in use.
    """
    config = Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")
    client = shutil.which("docker")
    # buildx rewrites `current` on every build: its content, not its time, says which builder.
    chosen = (config / "config.json", config / "buildx" / "current")
    watched = (*(Path(p) for p in PLUGIN_DIRS), config / "cli-plugins")
    return digest(
        [
            builder,
            compose,
            str(cache),
            *(
                f"{name}={os.environ.get(name, '')}"
                for name in ("PATH", "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG")
            ),
            stat_part(Path(client)) if client else "no docker",
            *(stat_part(path) for path in watched),
            *(file_part(path) for path in chosen),
        ]
    )


def cached_engine(
    runner: Runner, *, builder: str = "auto", compose: str = "auto", cache: bool = True
) -> Engine:
    """Return :func:`detect_engine`'s answer, probing again only when what it read changed."""
    key = _probe_key(builder, compose, cache=cache)
    kept = read("engine", key)
    if kept is not None:
        found = json.loads(kept)
        return Engine(bool(found["buildx"]), tuple(found["compose"]), str(found["driver"]))
    engine = detect_engine(runner, builder=builder, compose=compose, cache=cache)
    if not runner.dry:
        write("engine", key, json.dumps(asdict(engine)))
    return engine


def buildx_driver(runner: Runner) -> str:
    """Return the driver of the current buildx builder (``docker`` when it cannot be read)."""
    probe = runner.run(["docker", "buildx", "inspect"], capture=True, check=False, query=True)
    for line in probe.stdout.splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "Driver":
            return value.strip()
    return "docker"


VERSION = ("docker", "version", "--format", "{{.Server.Version}}")


def where(runner: Runner, environ: Mapping[str, str] | None = None) -> str:
    """Return how the client reaches the engine: ``DOCKER_HOST=...`` or ``context NAME``."""
    host = (os.environ if environ is None else environ).get("DOCKER_HOST")
    if host:
        return f"DOCKER_HOST={host}"
    context = runner.run(["docker", "context", "show"], capture=True, check=False, query=True)
    return f"context {context.stdout.strip() or 'default'}"


def unreachable(runner: Runner, environ: Mapping[str, str] | None = None) -> EngineError | None:
    """Return the error for an engine that does not answer, naming how it was reached; else None."""
    found = runner.run(VERSION, capture=True, check=False, query=True)
    return None if found.ok else not_reachable(runner, found, environ)


def not_reachable(
    runner: Runner, answer: Result, environ: Mapping[str, str] | None = None
) -> EngineError:
    """Return the error for an engine whose ``docker version`` gave ``answer``."""
    said = [
        line.strip()
        for line in (answer.stderr + answer.stdout).splitlines()
        if line.strip() and not line.startswith("template:")
    ]
    host = (os.environ if environ is None else environ).get("DOCKER_HOST")
    fix = (
        "or point DOCKER_HOST at a running engine (or unset it)"
        if host
        else "or switch to a running one ('docker context use default')"
    )
    return EngineError(
        f"the Docker engine is not reachable through {where(runner, environ)}"
        + (f": {said[-1]}" if said else ""),
        tip=f"start Docker Desktop (or 'sudo systemctl start docker' on Linux) {fix}, "
        "then check that 'docker version' shows a Server",
    )


def require(runner: Runner) -> None:
    """Stop with an EngineError before any work when the engine does not answer."""
    error = unreachable(runner)
    if error is not None:
        raise error


def diagnose(error: ShipyardError, runner: Runner) -> ShipyardError:
    """Replace a failed docker command's error with "engine down" when that is the cause.

    Streamed commands print their stderr straight to the terminal, so instead
    of parsing it this asks the engine itself (``docker version``).
    """
    if not isinstance(error, CommandFailed) or error.argv[0] not in {"docker", "docker-compose"}:
        return error
    return unreachable(runner) or error
