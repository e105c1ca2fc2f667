"""``docker-test`` and ``gc``: throwaway test runs that always clean up after themselves.

A run builds the test image, brings its stack up under a project name and
labels of its own, waits until services are healthy and jobs have exited 0,
runs the test service's own command (pytest) inside the image with
the results flags added, copies the results out and removes everything,
whether pytest passed, failed, the stack never came up, or the run was
interrupted (Ctrl-C or SIGTERM). A run killed outright (``kill -9``) leaves
its resources behind; the next run, or ``inv gc``, reaps them by label.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shipyard.core.compose import service_dependencies
from shipyard.core.errors import ConfigError, ShipyardError, tail
from shipyard.core.process import shielded, sigterm_as_interrupt
from shipyard.core.workspace import Workspace, display_path
from shipyard.env.environment import Environment
from shipyard.stack import checkouts, health
from shipyard.stack.builds import build_images
from shipyard.stack.stacks import compose_for, start
from shipyard.testing import runs, summary

# Compose's own progress lines, which say nothing about why a check failed.
COMPOSE_PROGRESS = re.compile(r"^\s*(Network|Container|Volume) \S+ [A-Z][a-z]+\s*$")
RESULTS_IN_CONTAINER = "/tmp/shipyard-results"  # noqa: S108 - inside the throwaway test container


def new_run_id() -> str:
    """Return a short random id that makes a run's project name unique."""
    return uuid.uuid4().hex[:8]


SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})


def results_flags(ws: Workspace) -> list[str]:
    """Return the pytest options that write JUnit XML (and coverage) where docker-test reads."""
    flags = [f"--junitxml={RESULTS_IN_CONTAINER}/junit.xml"]
    if ws.stack.coverage:
        flags += [
            f"--cov={ws.stack.coverage}",
            f"--cov-report=xml:{RESULTS_IN_CONTAINER}/coverage.xml",
            "--cov-report=term",
        ]
    return flags


def runs_pytest_directly(command: Sequence[str]) -> bool:
    """Tell whether options appended to ``command`` reach pytest (not a shell's ``-c`` string).

    ``pytest``, ``python -m pytest``, ``uv run pytest``, ``poetry run python -m pytest``...
    """
    if not command or Path(command[0]).name in SHELLS:
        return False
    names = [Path(word).name for word in command]
    return any(n in {"pytest", "py.test"} for n in names) or any(
        a == "-m" and b == "pytest" for a, b in itertools.pairwise(names)
    )


# Django's runner writes JUnit through shipyard's runner class, mounted read-only.
JUNIT_RUNNER = "shipyard_junit.Runner"
JUNIT_MOUNT = "/opt/shipyard-junit"
JUNIT_SOURCE = Path(__file__).resolve().parent / "container"


def runs_django_tests_directly(command: Sequence[str]) -> bool:
    """Tell whether ``command`` is ``[python] manage.py test ...`` with no runner of its own."""
    names = [Path(word).name for word in command]
    direct = bool(command) and Path(command[0]).name not in SHELLS
    return (
        direct
        and any(a == "manage.py" and b == "test" for a, b in itertools.pairwise(names))
        and not any(w == "--testrunner" or w.startswith("--testrunner=") for w in command)
    )


def image_config(ws: Workspace, ref: str) -> dict[str, Any]:
    """Return an image's ``Config`` (Cmd, Env...), or {} when it cannot be read (dry runs)."""
    found = ws.runner.run(
        ["docker", "image", "inspect", "--format", "{{json .Config}}", ref],
        capture=True,
        check=False,
        query=True,
    )
    try:
        config = json.loads(found.stdout) if found.ok else {}
    except json.JSONDecodeError:
        return {}
    return config if isinstance(config, dict) else {}


def suite_command(
    ws: Workspace,
    environment: Environment,
    pytest_args: Sequence[str],
    *,
    results: bool = True,
    config: dict[str, Any] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """Return the argv and extra environment that run the test service's own command.

    The command is the service's ``command:``, else its image's ``CMD``. When
    it runs pytest directly, the results flags and ``pytest_args`` are
    appended; when a shell runs it (``sh -c "migrate && pytest"``), they go
    in ``PYTEST_ADDOPTS``, after whatever the service or image sets there.
    Without ``results`` (the kept stack's edit-test loop) no report is written.
    ``config`` is the test image's, when the caller read it already.
    """
    service = environment.services[ws.stack.test_service]
    image = environment.image_of(ws.stack.test_service)
    if config is None:
        config = image_config(ws, image.at(ws.stack.checkout)) if image else {}
    command = [str(w) for w in service.get("command") or config.get("Cmd") or ["pytest"]]
    flags = [*(results_flags(ws) if results else []), *pytest_args]
    if runs_pytest_directly(command):
        return [*command, *flags], {}
    image_env = dict(e.split("=", 1) for e in config.get("Env") or [] if "=" in e)
    if results and runs_django_tests_directly(command):
        own_path = (service.get("environment") or {}).get("PYTHONPATH") or image_env.get(
            "PYTHONPATH", ""
        )
        return [*command, "--testrunner", JUNIT_RUNNER, *pytest_args], {
            "SHIPYARD_JUNIT_XML": f"{RESULTS_IN_CONTAINER}/junit.xml",
            "PYTHONPATH": ":".join(p for p in (JUNIT_MOUNT, own_path) if p),
        }
    own = (service.get("environment") or {}).get("PYTEST_ADDOPTS")
    addopts = own if own is not None else image_env.get("PYTEST_ADDOPTS", "")
    return command, {"PYTEST_ADDOPTS": shlex.join([*shlex.split(addopts or ""), *flags])}


def _ensure_ran(ws: Workspace, container: str, status: int) -> None:
    """Raise when the test container never came to be: ``status`` is Compose's, not pytest's."""
    ran = ws.runner.run(
        ["docker", "container", "inspect", "--format", "{{.State.ExitCode}}", container],
        capture=True,
        check=False,
        query=True,
    )
    if not ran.ok:
        raise ShipyardError(
            f"the test container {container} never started ('compose run' exited {status})",
            tip="read Compose's message above; 'inv docker-build --env test' must succeed",
        )


def save_logs(ws: Workspace, compose: health.Compose, results: Path) -> list[Path]:
    """Write the log of every service of the stack to ``results/logs/<service>.log``."""
    folder = results / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for service in sorted({c.service for c in health.list_containers(ws.runner, compose)}):
        logs = ws.runner.run(
            compose("logs", "--no-color", "--timestamps", service),
            capture=True,
            check=False,
            query=True,
        )
        path = folder / f"{service}.log"
        path.write_text(logs.stdout + logs.stderr, encoding="utf-8")
        written.append(path)
    return written


NO_TESTS_COLLECTED = 5  # pytest's own exit status for "no tests ran"


class NoTestsCollected(ShipyardError):
    """pytest's exit 5: it collected no test, or every test was deselected."""

    exit_code = NO_TESTS_COLLECTED

    def __init__(self, command: Sequence[str], how: str = "nox -s docker-test") -> None:
        """Name the command that ran, and where to look (``how``: what the user typed)."""
        super().__init__(
            f"pytest collected no test in the test image (exit 5): none was found, or every "
            f"test was deselected ({shlex.join(command)})",
            tip=f"check the paths, -k and -m you passed ('{how} -- -k NAME') and "
            "in the test command, and that the tests are in the test image (COPY in the "
            "Dockerfile's test stage, not left out by .dockerignore)",
        )


@dataclass(frozen=True)
class Outcome:
    """How a run ended: pytest's exit status, and its output when it was captured."""

    status: int
    output: str = ""
    command: tuple[str, ...] = ()  # what ran in the test container


def docker_test(
    ws: Workspace,
    environment: Environment,
    pytest_args: Sequence[str],
    *,
    run_id: str | None = None,
) -> int:
    """Run the service's test suite inside the test image; return pytest's exit status.

    Raises StackNotReady when the stack never came up (a job failed, a health
    check timed out), and KeyboardInterrupt/Terminated when interrupted; in
    every case the run's containers, networks and volumes are gone afterwards.
    """
    outcome = throwaway_run(ws, environment, pytest_args, run_id=run_id)
    if not ws.runner.dry and (shown := summary.report(ws.stack.results_dir)):
        ws.say(f"test report added to {shown}")
    if outcome.status == NO_TESTS_COLLECTED and not ws.runner.dry:
        raise NoTestsCollected(outcome.command)
    return outcome.status


NO_JUNIT = "NO-JUNIT.txt"  # what results/ holds instead when the runner writes no JUnit
RESULT_FILES = ("junit.xml", "coverage.xml", NO_JUNIT)


def clear_results(results: Path) -> None:
    """Remove what an earlier run left in ``results``: a stale report must not pass for this one."""
    for name in RESULT_FILES:
        (results / name).unlink(missing_ok=True)
    for log in (results / "logs").glob("*.log"):
        log.unlink()


def _note_no_junit(ws: Workspace, command: Sequence[str], results: Path) -> None:
    """Say (and leave in ``results``) that the suite's runner writes no JUnit report."""
    why = (
        f"no {display_path(results / 'junit.xml')}: the test command does not run "
        f"pytest ({shlex.join(command)}); its runner reported above"
    )
    ws.say(why)
    if not ws.runner.dry:
        results.mkdir(parents=True, exist_ok=True)
        (results / NO_JUNIT).write_text(why + "\n", encoding="utf-8")


def throwaway_run(
    ws: Workspace,
    environment: Environment,
    pytest_args: Sequence[str],
    *,
    run_id: str | None = None,
    checks: Sequence[Check] = (),
    capture: bool = False,
    suite: bool = True,
) -> Outcome:
    """Run the suite as docker-test does, after ``checks`` in the test image; tear it all down.

    Each check runs in a one-off container of the test service once the stack
    is up; the first that fails raises its error (its output and the fix).
    Without ``suite``, only the checks run (status 0 when they pass).
    """
    stack = ws.stack
    # Only what the tests depend on: a running worker would race them for jobs.
    needed = service_dependencies(environment.services, stack.test_service)
    if environment.image_of(stack.test_service) is None:
        raise ConfigError(
            f"the test service {stack.test_service!r} of the {environment.name} stack "
            "is not built from a Dockerfile",
            tip="give it a build: section (target: test) and an image: name",
        )
    ws.require_engine()
    for line in collect_garbage(ws, everywhere=False):  # dead runs, images builds replaced
        ws.say(line)
    build_images(ws, environment.images)
    if not ws.runner.dry:
        clear_results(stack.results_dir)
    command, extra_env = suite_command(ws, environment, pytest_args)
    run = runs.Run(stack.project, environment.name, run_id or new_run_id())
    overlay_text = runs.labels_overlay(
        run,
        environment.services,
        environment.networks,
        environment.volumes,
        images={
            service: image.at(stack.checkout)
            for image in environment.images
            for service in image.services
        },
    )
    with sigterm_as_interrupt(), runs.holding(run, overlay_text) as overlay:
        compose = compose_for(ws, environment, project=run.compose_project, extra_files=[overlay])
        container = f"{run.compose_project}-{stack.test_service}"
        results = stack.results_dir
        status: int | None = None  # None: the run never finished (a failure, an interrupt)
        try:
            where = display_path(results / "logs")
            if needed:  # `up` with no service named would start the whole stack
                start(
                    ws,
                    environment,
                    compose,
                    timeout=None,
                    services=needed,
                    tip=f"the logs of every service are in {where}/",
                )
            for check in checks:
                _run_check(ws, compose, check)
            status, output = (
                _run_suite(ws, compose, container, command, extra_env, capture=capture)
                if suite
                else (0, "")
            )
        except KeyboardInterrupt:
            _teardown(ws, compose, container, run, failed=True)
            ws.say("everything the run started was removed")
            raise
        except BaseException:
            _teardown(ws, compose, container, run, failed=True)
            raise
        _teardown(ws, compose, container, run, failed=status != 0)
        junit = JUNIT_RUNNER in command or re.search(r"\bpy\.?test\b", " ".join(command))
        if suite and not junit:
            _note_no_junit(ws, command, results)
        return Outcome(status, output, tuple(command))


@dataclass(frozen=True)
class Check:
    """A command to run in the test image before the suite, and what its failure means."""

    argv: tuple[str, ...]
    failure: str  # "the app web:create_app() does not import"
    tip: str


class CheckFailed(ShipyardError):
    """A check failed in the test image; ``output`` holds all it said."""

    def __init__(self, check: Check, output: str) -> None:
        """Keep the check and its whole output; show its last lines."""
        super().__init__(check.failure, details=tail(output, 15), tip=check.tip)
        self.check = check
        self.output = output


def _run_check(ws: Workspace, compose: health.Compose, check: Check) -> None:
    """Run one check in a one-off test container; raise its error when it fails."""
    service = ws.stack.test_service
    done = ws.runner.run(
        compose("run", "--rm", "--no-deps", service, *check.argv), capture=True, check=False
    )
    if not done.ok:
        said = [
            line
            for line in (done.stdout + done.stderr).splitlines()
            if not COMPOSE_PROGRESS.match(line)
        ]
        raise CheckFailed(check, "\n".join(said))


def _run_suite(
    ws: Workspace,
    compose: health.Compose,
    container: str,
    command: Sequence[str],
    extra_env: dict[str, str],
    *,
    capture: bool = False,
) -> tuple[int, str]:
    """Run the test service's command in a one-off container; copy its results out."""
    results = ws.stack.results_dir
    result = ws.runner.run(
        compose(
            "run",
            "--no-deps",
            "--name",
            container,
            *(f"--env={k}={v}" for k, v in extra_env.items()),
            *(["--volume", f"{JUNIT_SOURCE}:{JUNIT_MOUNT}:ro"] if JUNIT_RUNNER in command else []),
            ws.stack.test_service,
            *command,
        ),
        capture=capture,
        check=False,
    )
    if not ws.runner.dry:
        _ensure_ran(ws, container, result.returncode)
        results.mkdir(parents=True, exist_ok=True)
        ws.runner.run(
            ["docker", "cp", f"{container}:{RESULTS_IN_CONTAINER}/.", display_path(results)],
            capture=True,
            check=False,
        )
    return result.returncode, result.stdout + result.stderr


def _teardown(
    ws: Workspace, compose: health.Compose, container: str, run: runs.Run, *, failed: bool
) -> None:
    """Save the logs of a failed run, then remove everything the run started."""
    with shielded():
        results = ws.stack.results_dir
        if failed and not ws.runner.dry:
            saved = save_logs(ws, compose, results)
            ws.say(f"saved the logs of {len(saved)} services to {display_path(results / 'logs')}")
        # The one-off test container first: while it runs (an interrupted
        # `compose run`), `down` leaves it, and with it the network.
        ws.runner.run(
            ["docker", "rm", "--force", "--volumes", container], capture=True, check=False
        )
        # No grace period: nothing of a throwaway stack is worth a clean stop,
        # and a server that ignores SIGTERM would cost its full timeout.
        down = ws.runner.run(
            compose("down", "--volumes", "--remove-orphans", "--timeout", "0"),
            capture=True,
            check=False,
        )
        if (failed and not ws.runner.dry) or not down.ok:
            # Whatever `down` missed (an interrupted start, a failed down) carries the labels.
            for item in runs.find_leftovers(ws.runner, ws.stack.project, run.run_id):
                runs.remove(ws.runner, item)


def gc(ws: Workspace, *, dry: bool = False) -> list[runs.Leftovers]:
    """Remove what dead runs of this project left behind; return what was (or would be) removed."""
    found = runs.stale(runs.find_leftovers(ws.runner, ws.stack.project))
    if not (dry or ws.runner.dry):
        for item in found:
            runs.remove(ws.runner, item)
        for path in runs.dead_lock_files(ws.stack.project):  # reaped, or gone by other hands
            path.unlink(missing_ok=True)
            path.with_suffix(".labels.yml").unlink(missing_ok=True)
    return found


UNTAGGED = "<none>:<none>"


def project_images(ws: Workspace) -> list[tuple[str, str]]:
    """Return (id, name:tag) of this project's images; an untagged one is ``<none>:<none>``."""
    result = ws.runner.run(
        [
            "docker",
            "images",
            "--filter",
            f"label=org.opencontainers.image.title={ws.stack.project}",
            "--format",
            "{{.ID}} {{.Repository}}:{{.Tag}}",
        ],
        capture=True,
        query=True,
    )
    return [
        (i, ref) for i, _, ref in (line.partition(" ") for line in result.stdout.split("\n")) if ref
    ]


def collect_garbage(ws: Workspace, *, dry: bool = False, everywhere: bool = True) -> list[str]:
    """Reap dead runs, this project's untagged images and gone checkouts' tags; say each.

    ``everywhere=False`` (the start of each test run) asks the engine for dead
    runs' leftovers only when a run of this host died holding its lock.
    """
    dry = dry or ws.runner.dry
    sweep = everywhere or bool(runs.dead_lock_files(ws.stack.project))
    lines = [line for item in gc(ws, dry=dry) for line in item.describe()] if sweep else []
    listed = project_images(ws)
    untagged = sorted({image for image, ref in listed if ref == UNTAGGED})
    stale = checkouts.gone(ref for _, ref in listed if ref != UNTAGGED)
    if not dry and untagged:
        ws.runner.run(["docker", "rmi", *untagged], capture=True, check=False)
    if not dry and stale:
        tags = [tag for tag, _ in stale]
        if not ws.runner.run(["docker", "rmi", *tags], capture=True, check=False).returncode:
            checkouts.forget(tags)  # else (a container uses one) the next gc tries again
    lines += [f"image {image} (untagged, left by a rebuild)" for image in untagged]
    lines += [f"image tag {tag} (its checkout {folder} is gone)" for tag, folder in stale]
    verb = "would remove" if dry else "removed"
    return [f"{verb} {line}" for line in lines]
