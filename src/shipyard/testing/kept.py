"""``inv test``: the suite in the test image, on a test stack kept up between runs.

The first run builds the test image, starts the test environment's
dependencies under a project name of their own (``<project>-test-kept``,
labelled as a run: never the dev stack), runs its jobs (migrations) and a
long-lived container of the test image with the source folders mounted
read-only over the image's copies (:mod:`shipyard.testing.sources`); a keeper
process owns the stack (:mod:`shipyard.testing.keeper`). Later runs find it
healthy and run the test command in that container at once (``docker
exec``), with the source as it is now. When a build input changed (the lock,
the Dockerfile, a file outside the mounted folders) the image is rebuilt and
what runs it recreated first. The stack goes on ``inv test-down``, after the
idle time, or by ``inv gc`` once its keeper is gone. CI's ``nox -s
docker-test`` is untouched: fresh and torn down.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from filelock import Timeout

from shipyard.core.compose import Container, service_dependencies
from shipyard.core.errors import ConfigError, ShipyardError
from shipyard.core.process import shielded, sigterm_as_interrupt, spawn_detached
from shipyard.core.workspace import Workspace, display_path
from shipyard.env.environment import Environment
from shipyard.stack.builds import build_images
from shipyard.stack.stacks import compose_for, start
from shipyard.testing import keeper, runs, sources, testrun

IDLE = 1800  # seconds a kept stack waits for the next `inv test`
KEEPER_START = 10.0  # seconds for the keeper to take its lock
INIT_WRAPPERS = frozenset({"tini", "tini-static", "dumb-init"})


def kept_run(ws: Workspace, environment: Environment) -> runs.Run:
    """Return the kept stack's run: ``<project>-<env>-kept``."""
    return runs.Run(ws.stack.project, environment.name, keeper.KEPT)


def kept_test(
    ws: Workspace,
    environment: Environment,
    pytest_args: Sequence[str],
    *,
    idle: float = IDLE,
    rebuild: bool = False,
) -> int:
    """Run the suite on the kept test stack (made or mended first); return pytest's status."""
    if environment.image_of(ws.stack.test_service) is None:
        raise ConfigError(
            f"the test service {ws.stack.test_service!r} of the {environment.name} stack "
            "is not built from a Dockerfile",
            tip="give it a build: section (target: test) and an image: name",
        )
    run = kept_run(ws, environment)  # its first `docker ps` fails (and says so) with no engine
    runs.runs_dir().mkdir(parents=True, exist_ok=True)
    busy = keeper.use_lock(run)
    try:
        busy.acquire(timeout=0)
    except Timeout:
        ws.say(f"waiting for another 'inv test' of {ws.stack.project} to finish")
        busy.acquire()
    try:
        with sigterm_as_interrupt():
            container, config = _ready(ws, environment, run, idle=idle, rebuild=rebuild)
            return _suite(ws, environment, run, (container, config), pytest_args)
    finally:
        busy.release()


def _state(run: runs.Run) -> dict[str, Any]:
    try:
        found = json.loads(keeper.state_file(run).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _touch(run: runs.Run) -> None:
    keeper.use_file(run).touch()


def _image_id(ws: Workspace, ref: str) -> str:
    found = ws.runner.run(
        ["docker", "image", "inspect", "--format", "{{.Id}}", ref],
        capture=True,
        check=False,
        query=True,
    )
    return found.stdout.strip()


_EXITED = re.compile(r"^Exited \((-?\d+)\)")


def containers(ws: Workspace, run: runs.Run) -> list[Container]:
    """Return the kept stack's containers (one ``docker ps``: the cheap health look)."""
    fields = "{{.ID}}\t{{.Names}}\t{{.State}}\t{{.Status}}\t"
    fields += '{{.Label "com.docker.compose.service"}}'
    listed = ws.runner.run(
        [
            "docker",
            "ps",
            "--all",
            "--filter",
            f"label={runs.PROJECT}={run.project}",
            "--filter",
            f"label={runs.RUN}={run.run_id}",
            "--format",
            fields,
        ],
        capture=True,
        query=True,
    )
    found = []
    for line in listed.stdout.splitlines():
        cid, name, state, status, service = [*line.split("\t"), "", "", "", "", ""][:5]
        health = re.search(r"\((healthy|unhealthy|health: starting)\)", status)
        exited = _EXITED.match(status)
        found.append(
            Container(
                id=cid,
                name=name,
                service=service,
                state=state,
                health=(health[1].replace("health: ", "") if health else ""),
                exit_code=int(exited[1]) if exited else 0,
                status=status,
            )
        )
    return found


def _healthy(found: Sequence[Container], needed: Sequence[str], jobs: frozenset[str]) -> bool:
    """Tell whether every needed service is ready (a job: exited 0)."""
    by_service: dict[str, list[Container]] = {}
    for container in found:
        by_service.setdefault(container.service, []).append(container)
    return all(
        any(c.completed if name in jobs else c.ready for c in by_service.get(name, []))
        for name in needed
    )


def _ready(
    ws: Workspace, environment: Environment, run: runs.Run, *, idle: float, rebuild: bool
) -> tuple[str, dict[str, Any]]:
    """Make the kept stack current and healthy; return its test container and image config."""
    stack = ws.stack
    test_image = environment.image_of(stack.test_service)
    assert test_image is not None  # noqa: S101 - checked by kept_test
    needed = service_dependencies(environment.services, stack.test_service)
    images = [i for i in environment.images if set(i.services) & {*needed, stack.test_service}]
    name = f"{run.compose_project}-{stack.test_service}"
    state = _state(run)
    owned = runs.is_alive(run)
    if not owned:  # a stack whose keeper died (or none yet): start from nothing
        keeper.remove_stack(ws.runner, run)
        state = {}
    mounts = sources.source_mounts(test_image)
    inputs = sources.build_inputs(images, mounts)
    image = state.get("image", "")
    built = rebuild or not owned or state.get("inputs") != inputs
    if built:
        build_images(ws, images)
        image = _image_id(ws, test_image.at(stack.checkout))
    found = containers(ws, run)
    test_running = any(c.name == name and c.state == "running" for c in found)
    if (
        owned
        and image == state.get("image")
        and test_running
        and _healthy(found, needed, environment.jobs)
    ):
        if state.get("inputs") != inputs:
            _save(run, {**state, "inputs": inputs})
        return name, state.get("config") or {}
    _touch(run)  # before the keeper starts: it goes when the file is gone
    pid = _start_keeper(run, idle) if not owned else state.get("keeper")
    overlay = run.overlay_file
    overlay.write_text(
        runs.labels_overlay(
            run,
            environment.services,
            environment.networks,
            environment.volumes,
            images={s: i.at(stack.checkout) for i in environment.images for s in i.services},
        ),
        encoding="utf-8",
    )
    compose = compose_for(ws, environment, project=run.compose_project, extra_files=[overlay])
    try:
        if built:
            copy_build_outputs(ws, image, mounts)
        if needed:
            start(ws, environment, compose, timeout=None, services=needed)
        ws.runner.run(["docker", "rm", "--force", "--volumes", name], capture=True, check=False)
        ws.runner.run(
            compose(
                "run",
                "--detach",
                "--no-deps",
                "--name",
                name,
                *(f"--volume={mount.volume()}" for mount in mounts),
                "--entrypoint",
                "tail",
                stack.test_service,
                "-f",
                "/dev/null",
            ),
            capture=True,
        )
    except BaseException:
        with shielded():
            ws.say(f"the kept test stack did not start: removing {run.compose_project}")
            testrun.save_logs(ws, compose, stack.results_dir)
            keeper.remove_stack(ws.runner, run)
        raise
    config = testrun.image_config(ws, test_image.at(stack.checkout))
    _save(run, {"image": image, "inputs": inputs, "keeper": pid, "config": config})
    if owned and state:
        why = "the test image changed" if image != state.get("image") else "a service was down"
        ws.say(f"kept test stack {run.compose_project}: {why}, started again")
    else:
        where = ", ".join(f"{display_path(m.source)} -> {m.target}" for m in mounts) or "none"
        ws.say(
            f"kept test stack {run.compose_project} is up (source mounted: {where}); it goes "
            f"after {idle / 60:g} min idle, or on 'inv test-down'"
        )
    return name, config


def copy_build_outputs(ws: Workspace, image: str, mounts: Sequence[sources.Mount]) -> None:
    """Copy to the host what the build wrote into the mounted folders (the mounts hide it)."""
    if not mounts:
        return
    targets = [m.target for m in mounts]
    listing = ws.runner.run(
        ["docker", "run", "--rm", "--entrypoint", "find", image, *targets, "-type", "f"],
        capture=True,
        check=False,  # a target the image lacks: find says so and lists the others
    ).stdout
    outputs = sources.build_outputs(listing, mounts)
    if not outputs:
        return
    created = ws.runner.run(
        ["docker", "create", "--entrypoint", "true", image], capture=True
    ).stdout.strip()
    try:
        for inside, host in outputs:
            host.parent.mkdir(parents=True, exist_ok=True)
            ws.runner.run(["docker", "cp", f"{created}:{inside}", str(host)], capture=True)
    finally:
        with shielded():
            ws.runner.run(["docker", "rm", created], capture=True, check=False)
    made = ", ".join(display_path(host) for _, host in outputs[:5])
    more = f" and {len(outputs) - 5} more" if len(outputs) > 5 else ""  # noqa: PLR2004
    ws.say(f"copied what the build made into the mounted source: {made}{more}")


def _save(run: runs.Run, state: dict[str, Any]) -> None:
    keeper.state_file(run).write_text(json.dumps(state), encoding="utf-8")


def _start_keeper(run: runs.Run, idle: float) -> int:
    """Start the stack's keeper and wait until it holds the run's lock."""
    argv = [sys.executable, "-m", "shipyard.testing.keeper", run.project, run.env, f"{idle:g}"]
    pid = spawn_detached(argv, keeper.log_file(run))
    deadline = time.monotonic() + KEEPER_START
    while not runs.is_alive(run):
        if time.monotonic() > deadline:
            raise ShipyardError(
                f"the keeper of the kept test stack (pid {pid}) did not start",
                tip=f"read {display_path(keeper.log_file(run))}",
            )
        time.sleep(0.05)
    return pid


def _entrypoint(environment: Environment, service: str, config: dict[str, Any]) -> list[str]:
    """Return the entrypoint the suite runs under, less an init (tini) that wants PID 1."""
    spec = environment.services[service]
    words = [str(w) for w in spec.get("entrypoint") or config.get("Entrypoint") or []]
    if words and Path(words[0]).name in INIT_WRAPPERS:
        words = words[1:]
        words = words[1:] if words[:1] == ["--"] else words
    return words


def _suite(
    ws: Workspace,
    environment: Environment,
    run: runs.Run,
    kept: tuple[str, dict[str, Any]],
    pytest_args: Sequence[str],
) -> int:
    """Run the test command in the kept container; keep the stack's use time fresh."""
    service = ws.stack.test_service
    container, config = kept
    command, extra_env = testrun.suite_command(
        ws, environment, pytest_args, results=False, config=config
    )
    tty = ["--tty"] if sys.stdout.isatty() else []
    interactive = ["--interactive"] if sys.stdin.isatty() else []
    _touch(run)
    done = ws.runner.run(
        [
            "docker",
            "exec",
            *interactive,
            *tty,
            *(f"--env={k}={v}" for k, v in extra_env.items()),
            container,
            *_entrypoint(environment, service, config),
            *command,
        ],
        check=False,
        interactive=bool(interactive),
    )
    _touch(run)
    if done.returncode == testrun.NO_TESTS_COLLECTED and not ws.runner.dry:
        raise testrun.NoTestsCollected(command, "inv test")
    return done.returncode


def down(ws: Workspace, environment: Environment) -> list[str]:
    """Remove the kept test stack (its keeper exits); return one line per thing removed."""
    run = kept_run(ws, environment)
    busy = keeper.use_lock(run)
    try:
        busy.acquire(timeout=0)
    except Timeout:
        raise ShipyardError(
            f"an 'inv test' of {ws.stack.project} is running on the kept test stack",
            tip="let it finish (or stop it with Ctrl-C), then run 'inv test-down' again",
        ) from None
    try:
        return keeper.remove_stack(ws.runner, run)
    finally:
        keeper.release_gone(busy)
