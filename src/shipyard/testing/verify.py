"""``shipyard verify`` (and ``init --verify``): check init's guesses where the truth lives.

Static reading guesses; the image knows. A verify run is a docker-test run
that runs no test: it builds the test image, starts the test stack's
dependencies (so the prepare step, migrations, runs), imports the app the way
the server will (a factory is called), then collects the suite
(``pytest --collect-only``), and tears everything down. Each failure says
which guess was wrong and the settings line that fixes it.
"""

from __future__ import annotations

import re

from shipyard.core.errors import ShipyardError, tail
from shipyard.core.workspace import Workspace
from shipyard.env.environment import Environment
from shipyard.testing.testrun import NO_TESTS_COLLECTED, Check, throwaway_run

COLLECTED = re.compile(r"(\d+)(?:/\d+)? tests? collected")


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


def verify(
    ws: Workspace, environment: Environment, *, app: str, prepare: str, settings: str
) -> str:
    """Run the checks in a throwaway test stack; return the line that says what was proven."""
    checks = [app_check(app, settings)] if app else []
    outcome = throwaway_run(ws, environment, ["--collect-only", "-q"], checks=checks, capture=True)
    found = COLLECTED.findall(outcome.output)
    if outcome.status == NO_TESTS_COLLECTED or (outcome.status == 0 and not found):
        raise ShipyardError(
            "not verified: pytest collected no test in the test image",
            details=tail(outcome.output, 15),
            tip=f"set test-command in {settings} to the command that runs the suite, "
            "then 'shipyard init --force'",
        )
    if outcome.status:
        raise ShipyardError(
            f"not verified: collecting the tests failed in the test image (pytest exited "
            f"{outcome.status})",
            details=tail(outcome.output, 15),
            tip=f"a missing test package: add it to extra-test-packages in {settings}; "
            "a missing variable: set it under env; then 'shipyard init --force'",
        )
    done = ["the app imports"] if app else []
    done += ["the prepare step ran"] if prepare else []
    count = int(found[-1])
    done.append(f"{count:,} test{'s' if count != 1 else ''} collected (no test was run)")
    return "verified: " + ", ".join(done)
