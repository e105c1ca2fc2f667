"""``shipyard verify`` (and the end of ``shipyard init``): check the guesses in the image.

Static reading guesses; the image knows. A verify run is a docker-test run
that runs no test: it builds the test image, starts the test stack's
dependencies (so the prepare step, migrations, runs), imports the app the way
the server will (a factory is called), then collects the suite
(``pytest --collect-only``), and tears everything down. Each failure says
which guess was wrong and the settings line that fixes it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from shipyard.core.errors import ShipyardError, StackNotReady, tail
from shipyard.core.workspace import Workspace
from shipyard.env.environment import Environment
from shipyard.testing.testrun import NO_TESTS_COLLECTED, Check, CheckFailed, throwaway_run

COLLECTED = re.compile(r"(\d+)(?:/\d+)? tests? collected")
# What pytest says when a test module fails to import or a fixture file is broken.
COLLECTION_ERROR = re.compile(r"errors? during collection|ERROR collecting|\b\d+ errors?\b")
# With a -q of the project's own on top of ours, pytest counts per file instead.
PER_FILE = re.compile(r"^\S+\.py: (\d+)$", re.MULTILINE)
# Finds the app by importing the modules that import its framework: a module-level
# app object, else a function named for one, taking no argument, that returns one.
# It always exits non-zero: what it prints is a finding, not a pass.
INTROSPECT = """
import importlib, inspect, re, sys, traceback
KINDS = {"Flask", "FastAPI", "Starlette", "Litestar"}
def is_app(obj):
    return not isinstance(obj, type) and any(c.__name__ in KINDS for c in type(obj).__mro__)
def bare(f):
    ps = inspect.signature(f).parameters.values()
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in ps)
for name in sys.argv[1:]:
    try:
        module = importlib.import_module(name)
    except Exception:
        print(f"importing {name}:", traceback.format_exc(limit=-3))
        continue
    apps = [a for a, o in vars(module).items() if is_app(o)]
    if apps:
        print(f"shipyard-app: {name}:{apps[0]}")
        sys.exit(3)
    for attr, obj in vars(module).items():
        own = inspect.isfunction(obj) and obj.__module__ == name
        if own and re.search("app", attr) and bare(obj):
            try:
                made = obj()
            except Exception as exc:
                print(f"{name}:{attr}(): {type(exc).__name__}: {exc}")
                continue
            if is_app(made):
                print(f"shipyard-app: {name}:{attr}()")
                sys.exit(3)
print("no app object in " + ", ".join(sys.argv[1:]))
sys.exit(1)
"""


class NotVerified(ShipyardError):
    """A guess did not hold in the image: ``stage`` says which, ``output`` all that was said."""

    def __init__(self, error: ShipyardError, stage: str, output: str) -> None:
        """Keep the error as it reads, and what a mend reads."""
        super().__init__(error.message, details=error.details, tip=error.tip)
        self.stage = stage  # app | prepare | collect
        self.output = output


def collected(output: str) -> int | None:
    """Return how many tests pytest's ``--collect-only`` output lists (None: no count)."""
    if total := COLLECTED.findall(output):
        return int(total[-1])
    per_file = PER_FILE.findall(output)
    return sum(map(int, per_file)) if per_file else None


def failed_after_collecting(status: int, output: str) -> str | None:
    """Say why pytest exited non-zero after collecting without an error, else None.

    A plugin can fail a run that collected cleanly: a coverage threshold
    (``--cov-fail-under`` in the project's addopts) is never met when no test runs.
    """
    if not status or collected(output) is None or COLLECTION_ERROR.search(output):
        return None
    why = next((line.strip() for line in output.splitlines() if "FAIL" in line), "")
    return f"pytest then exited {status}" + (f": {why}" if why else "")


def app_check(app: str, settings: str) -> Check:
    """Return the check that imports ``module:attr`` (calling ``module:factory()``)."""
    module, _, attr = app.partition(":")
    factory = attr.endswith("()")
    code = (
        f"import importlib; app = getattr(importlib.import_module({module!r}), "
        f"{attr.removesuffix('()')!r}){'()' if factory else ''}; print(type(app).__name__)"
    )
    return Check(
        ("python", "-c", code),
        f"not verified: the app {app} does not import in the test image",
        f'when the error names the app\'s module or attribute, set app = "module:attr" '
        f'(or "module:factory()") in {settings}; when it comes from a dependency, the '
        "project's pins do not run on the image's Python: set python or pin them in "
        "extra-packages there; then 'shipyard init --force'",
    )


DJANGO_TEST = re.compile(r"(\S*manage\.py)\s+test\b.*$")


def runner_check(test_command: str, settings: str) -> Check | None:
    """Return Django's system check, run where its test runner would start, or None.

    Django's runner lists no tests without running them; ``manage.py check``
    at least imports the settings and every app, as the runner does first.
    """
    match = DJANGO_TEST.search(test_command)
    if match is None:
        return None
    return Check(
        ("sh", "-c", f"{test_command[: match.start()]}{match[1]} check"),
        "not verified: Django's system check fails in the test image, where its test runner starts",
        f"when it names a missing module, add its package to extra-packages in {settings}; "
        "a missing variable: set it under env there; then 'shipyard init --force'",
    )


def find_app_check(framework: str, modules: Sequence[str], settings: str) -> Check:
    """Return the check that looks for the app by importing ``modules`` in the image."""
    return Check(
        ("python", "-c", INTROSPECT, *modules),
        f"not verified: init found {framework} but no app object, by reading or importing the code",
        f'set app = "module:attr" (or "module:factory()") in {settings}, then '
        "'shipyard init --force'",
    )


def verify(
    ws: Workspace,
    environment: Environment,
    *,
    app: str,
    prepare: str,
    settings: str,
    find_app: tuple[str, Sequence[str]] | None = None,
    collect: bool = True,
    runner: Check | None = None,
) -> str:
    """Run the checks in a throwaway test stack; return the line that says what was proven.

    ``find_app`` (framework, modules) looks for the app when reading found none;
    ``collect`` is false for a suite another runner runs (Django's, unittest's),
    which has no way to list its tests without running them; ``runner`` is
    the check run instead, where there is one (:func:`runner_check`).
    Raise :class:`NotVerified` when a guess did not hold.
    """
    checks = [app_check(app, settings)] if app else []
    if find_app and not app:
        checks = [find_app_check(find_app[0], find_app[1], settings)]
    checks += [runner] if runner and not collect else []
    try:
        outcome = throwaway_run(
            ws, environment, ["--collect-only", "-q"], checks=checks, capture=True, suite=collect
        )
    except CheckFailed as failed:
        raise NotVerified(failed, "app", failed.output) from None
    except StackNotReady as failed:
        waited = ws.stack.timeout
        if prepare and failed.message.startswith("timed out") and "migrate" in failed.message:
            failed = StackNotReady(
                f"not verified: the prepare step ({prepare}) was still running after "
                f"{waited:g}s (the timeout setting)",
                details=failed.details,
                tip=f"a long first migration needs longer: set timeout = {int(waited * 4)} in "
                "shipyard's settings ([tool.shipyard] in pyproject.toml, or shipyard.toml) or "
                "SHIPYARD_TIMEOUT, then 'shipyard verify'",
            )
        elif prepare and "migrate" in failed.message:
            failed = StackNotReady(
                f"not verified: the prepare step ({prepare}) failed in the test stack",
                details=failed.details,
                tip=f"when the error names a variable, set it under env in {settings}; when "
                "the step reaches the wrong database (SQLite, localhost), set the variable that "
                f'picks it under environment there; to run without the step, set prepare = ""; '
                "then 'shipyard init --force'",
            )
        raise NotVerified(failed, "prepare", failed.details) from None
    done = ["the app imports"] if app else []
    done += ["the prepare step ran"] if prepare else []
    if not collect:
        done += ["Django's system check passed where its test runner starts"] if runner else []
        done.append("the suite's runner is not pytest: its tests were not listed")
        return "verified: " + ", ".join(done)
    count = collected(outcome.output)
    if outcome.status == NO_TESTS_COLLECTED or (outcome.status == 0 and count is None):
        error = ShipyardError(
            "not verified: pytest collected no test in the test image",
            details=tail(outcome.output, 15),
            tip=f"set test-command in {settings} to the command that runs the suite, "
            "then 'shipyard init --force'",
        )
        raise NotVerified(error, "collect", outcome.output)
    if outcome.status in {126, 127}:  # the shell's "cannot run" and "not found"
        error = ShipyardError(
            f"not verified: the test command does not run in the test image (exit "
            f"{outcome.status}: not found or not executable)",
            details=tail(outcome.output, 15),
            tip=f"set test-command in {settings} to the command that runs the suite inside "
            "the image (not through docker), then 'shipyard init --force'",
        )
        raise NotVerified(error, "collect", outcome.output)
    after = failed_after_collecting(outcome.status, outcome.output)
    if outcome.status and not after:
        error = ShipyardError(
            f"not verified: collecting the tests failed in the test image (pytest exited "
            f"{outcome.status})",
            details=tail(outcome.output, 15),
            tip=f"a missing test package: add it to extra-test-packages in {settings}; "
            "a missing variable: set it under env; then 'shipyard init --force'",
        )
        raise NotVerified(error, "collect", outcome.output)
    more = f"; {after}" if after else ""
    done.append(f"{count:,} test{'s' if count != 1 else ''} collected (no test was run{more})")
    return "verified: " + ", ".join(done)
