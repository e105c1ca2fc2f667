"""``inv doctor``: every prerequisite of a stack, one line each, with the fix.

Checks run in order and never stop early: an engine that is down still
lets the disk, env file and script checks report. Only checks that need
the engine (ports read from Compose's model) are skipped without it.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from shipyard.core import engine
from shipyard.core.config import Stack, load_stack
from shipyard.core.engine import Engine
from shipyard.core.errors import EnvFileError, ShipyardError
from shipyard.core.process import Runner
from shipyard.core.workspace import Workspace, display_path
from shipyard.env import envfiles, envops
from shipyard.env.environment import resolve
from shipyard.stack import dockerignore

MIN_ENGINE = (20, 10)
GIB = 1024**3
DISK_FAIL, DISK_WARN = 2 * GIB, 10 * GIB


@dataclass(frozen=True)
class Check:
    """One prerequisite: ok, warn or fail, what was seen, and what to do."""

    name: str
    status: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        """Return the check as one line for a terminal."""
        fix = f"  -> {self.fix}" if self.fix else ""
        return f"{self.status.upper():<4}  {self.name:<9} {self.detail}{fix}"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", text)[:2])


def check_engine(runner: Runner, environ: dict[str, str]) -> Check:
    """Tell whether the engine answers, which one, and through which host or context."""
    found = runner.run(engine.VERSION, capture=True, check=False, query=True)
    if not found.ok or not found.stdout.strip():
        error = engine.not_reachable(runner, found, environ)
        detail = error.message.removeprefix("the Docker engine is ")
        return Check("engine", "fail", detail, error.tip or "")
    where = engine.where(runner, environ)
    version = found.stdout.strip()
    if _version(version) < MIN_ENGINE:
        return Check(
            "engine",
            "fail",
            f"Docker Engine {version} through {where}",
            "upgrade to Docker Engine 20.10 or later",
        )
    return Check("engine", "ok", f"Docker Engine {version} through {where}")


def check_compose(runner: Runner) -> Check:
    """Tell which Compose runs stacks: the v2+ plugin or standalone binary, never v1."""
    for argv in (["docker", "compose"], ["docker-compose"]):
        try:
            found = runner.run([*argv, "version", "--short"], capture=True, check=False, query=True)
        except ShipyardError:  # docker-compose not on PATH
            continue
        if found.ok and found.stdout.strip():
            version = found.stdout.strip().lstrip("v")
            if _version(version)[:1] < (2,):
                return Check(
                    "compose",
                    "fail",
                    f"Compose {version} ({' '.join(argv)}): v1 is not supported",
                    "install the Compose v2 plugin (Docker Desktop ships it)",
                )
            return Check("compose", "ok", f"Compose {version} ({' '.join(argv)})")
    return Check(
        "compose",
        "fail",
        "neither 'docker compose' nor 'docker-compose' answers",
        "install the Docker Compose v2 plugin (Docker Desktop ships it)",
    )


def check_builder(runner: Runner, builder: str) -> Check:
    """Tell how images are built: buildx (and its driver) or the classic client with BuildKit."""
    if builder == "docker":
        return Check("builder", "ok", "classic 'docker build' with BuildKit (builder = docker)")
    found = runner.run(["docker", "buildx", "version"], capture=True, check=False, query=True)
    if found.ok:
        words = found.stdout.split()
        version = words[1] if len(words) > 1 else found.stdout.strip()
        return Check("builder", "ok", f"buildx {version}")
    if builder == "buildx":
        return Check(
            "builder",
            "fail",
            "builder = buildx but 'docker buildx' is not installed",
            'install the buildx plugin, or set builder = "auto"',
        )
    return Check("builder", "ok", "no buildx: classic 'docker build' with DOCKER_BUILDKIT=1")


def check_disk(runner: Runner, root: Path) -> Check:
    """Tell whether the engine's data folder (or the project's disk) has room for images."""
    found = runner.run(
        ["docker", "info", "--format", "{{.DockerRootDir}}"], capture=True, check=False, query=True
    )
    folder = Path(found.stdout.strip()) if found.ok and found.stdout.strip() else root
    if not folder.is_dir():  # a remote or VM engine: its disk is not ours to read
        folder = root
    free = shutil.disk_usage(folder).free
    detail = f"{free / GIB:.1f} GiB free on {folder}"
    fix = "remove what is unused: 'docker system prune' (and 'inv gc')"
    if free < DISK_FAIL:
        return Check("disk", "fail", detail, fix)
    if free < DISK_WARN:
        return Check("disk", "warn", detail, fix)
    return Check("disk", "ok", detail)


def _port_variable(stack: Stack, env: str, port: int) -> str | None:
    for path in envfiles.layer_files(stack, env) or [stack.env_dir / envfiles.EXAMPLE]:
        for key, value in envfiles.parse_env_file(path).values.items():
            if key.endswith("PORT") and value.value == str(port):
                return key
    return None


def check_ports(ws: Workspace, env: str) -> Iterator[Check]:
    """Tell whether every port the stack publishes is free (or already this stack's own)."""
    environment = resolve(ws, env, create=False)
    project = environment.project
    for service, spec in sorted(environment.services.items()):
        if spec.get("profiles"):
            continue
        for port in spec.get("ports") or []:
            published = int(str(port.get("published") or 0).split("-")[0])
            if not published:
                continue
            host = port.get("host_ip") or "0.0.0.0"  # noqa: S104 - what Compose binds by default
            address = f"{host}:{published}"
            if _free(host, published):
                yield Check("ports", "ok", f"{address} free for {service}")
                continue
            owner = ws.runner.run(
                [
                    "docker",
                    "ps",
                    "--filter",
                    f"publish={published}",
                    "--format",
                    '{{.Label "com.docker.compose.project"}}',
                ],
                capture=True,
                check=False,
                query=True,
            ).stdout.split()
            if project in owner:
                yield Check("ports", "ok", f"{address} is {service} of the running {env} stack")
                continue
            variable = _port_variable(ws.stack, env, published)
            change = (
                f"or set {variable} in {display_path(ws.stack.env_dir)}/.env.{env}"
                if variable
                else "or publish another port in the overlay"
            )
            yield Check(
                "ports",
                "fail",
                f"{address} ({service}) is taken by another program",
                f"stop what listens there ('lsof -i :{published}'), {change}",
            )


def _free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def check_env_files(ws: Workspace) -> Iterator[Check]:
    """Tell whether every env file parses and meets the contract."""
    envs = envops.envs_with_files(ws.stack)
    found = envops.env_check(ws, envs)
    for env, problems in found.items():
        if problems:
            first = problems[0]
            yield Check(
                "env",
                "fail",
                f"{env}: {len(problems)} problem(s), first: {first}",
                f"run 'inv env-check --env {env}' and fix each line",
            )
        else:
            yield Check("env", "ok", f"{env}: env files match the contract")
    if not envs:
        yield Check("env", "ok", "no env file yet (the first 'inv dev-up' creates env/.env.dev)")


def check_scripts(builds: list[tuple[Path, Path | None]]) -> Check:
    """Tell whether a script that goes into an image has Windows line endings (CRLF)."""
    crlf = set()
    for context, dockerfile in builds:
        for path in dockerignore.sent_files(context, dockerfile):
            script = path.suffix in {".sh", ".bash"} or _has_shebang(path)
            if script and b"\r\n" in path.read_bytes():
                crlf.add(display_path(path))
    if crlf:
        return Check(
            "scripts",
            "fail",
            f"CRLF line endings in {', '.join(sorted(crlf))}: "
            "'/usr/bin/env: bash\\r: No such file' in the container",
            "convert to LF (dos2unix FILE) and add '*.sh text eol=lf' to .gitattributes",
        )
    return Check("scripts", "ok", "scripts sent to builds use LF line endings")


def _has_shebang(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(2) == b"#!"
    except OSError:
        return False


def diagnose(
    runner: Runner,
    open_ws: Callable[[], Workspace],
    *,
    env: str,
    start: Path | None = None,
    environ: dict[str, str] | None = None,
) -> list[Check]:
    """Run every check; return them in order (a failed one never stops the rest)."""
    environ = dict(os.environ if environ is None else environ)
    try:
        stack = load_stack(start)
    except ShipyardError as exc:
        return [Check("stack", "fail", exc.message, exc.tip or "run 'shipyard init' first")]
    checks = [check_engine(runner, environ)]
    engine_up = checks[0].status == "ok"
    checks.append(check_compose(runner) if engine_up else Check("compose", "skip", "engine down"))
    checks.append(check_builder(runner, stack.builder))
    checks.append(check_disk(runner, stack.root))
    ws: Workspace | None = None
    if engine_up and checks[1].status == "ok":
        ws = open_ws()
        try:
            stack.check_env(env)
            checks += list(check_ports(ws, env))
        except EnvFileError as exc:  # reported by the env check below, once
            checks.append(Check("ports", "skip", f"not checked: {exc.message}"))
        except ShipyardError as exc:
            checks.append(Check("ports", "fail", exc.message, exc.tip or ""))
    else:
        checks.append(Check("ports", "skip", "not checked: the engine is not reachable"))
    if ws is None:  # env files and scripts need no engine: only the stack and git
        ws = Workspace(runner, Engine(buildx=False, compose=("docker", "compose")), stack)
    checks += list(check_env_files(ws))
    checks.append(check_scripts(_builds(ws, env) if engine_up else [(stack.root, None)]))
    return checks


def _builds(ws: Workspace, env: str) -> list[tuple[Path, Path | None]]:
    """Return each build's context and Dockerfile (which says the ignore file it reads)."""
    fallback: list[tuple[Path, Path | None]] = [(ws.stack.root, None)]
    try:
        environment = resolve(ws, env, create=False)
    except ShipyardError:
        return fallback
    builds = {(image.context, image.dockerfile) for image in environment.images}
    return sorted(builds) or fallback


def as_json(checks: list[Check]) -> list[dict[str, str]]:
    """Return the checks as JSON-ready dicts."""
    return [asdict(c) for c in checks]


def failed(checks: list[Check]) -> list[Check]:
    """Return the checks that failed."""
    return [c for c in checks if c.status == "fail"]
