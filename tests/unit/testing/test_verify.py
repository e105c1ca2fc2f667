"""The checks `shipyard verify` runs in the test image, and how it reads pytest's count."""

from __future__ import annotations

import pytest

from shipyard.testing import verify


@pytest.mark.parametrize(
    ("app", "code"),
    [
        (
            "web:create_app()",
            "import importlib; app = getattr(importlib.import_module('web'), 'create_app')(); "
            "print(type(app).__name__)",
        ),
        (
            "svc.main:app",
            "import importlib; app = getattr(importlib.import_module('svc.main'), 'app'); "
            "print(type(app).__name__)",
        ),
    ],
    ids=["factory", "object"],
)
def test_the_app_is_imported_the_way_the_server_will(app: str, code: str) -> None:
    """A factory is called, an object only looked up; the failure names the settings line."""
    check = verify.app_check(app, "the init settings in shipyard.toml")
    assert check.argv == ("python", "-c", code)
    assert check.failure == f"not verified: the app {app} does not import in the test image"
    assert check.tip == (
        'when the error names the app\'s module or attribute, set app = "module:attr" '
        '(or "module:factory()") in the init settings in shipyard.toml; when it comes from a '
        "dependency, the project's pins do not run on the image's Python: set python or pin "
        "them in extra-packages there; then 'shipyard init --force'"
    )


@pytest.mark.parametrize(
    ("output", "count"),
    [
        ("tests/test_a.py::test_x\n\n1299 tests collected in 2.31s\n", 1299),
        ("1 test collected in 0.01s\n", 1),
        ("3/10 tests collected (7 deselected) in 0.1s\n", 3),
        ("tests/test_web.py: 2\ntests/sub/test_b.py: 5\n", 7),  # the project's -q and ours
        ("no tests collected in 0.01s\n", None),
        ("ERROR: usage: pytest [options]\n", None),
    ],
)
def test_the_collected_count_is_read_from_pytest(output: str, count: int | None) -> None:
    """What pytest --collect-only prints last, deselected tests apart, at -q and at -qq."""
    assert verify.collected(output) == count


def test_djangos_runner_is_checked_where_it_starts() -> None:
    """`manage.py test` lists nothing without running: `manage.py check` there instead."""
    check = verify.runner_check("cd src && python manage.py test --parallel 2", "shipyard.toml")
    assert check is not None
    assert check.argv == ("sh", "-c", "cd src && python manage.py check")
    assert verify.runner_check("python -m unittest discover", "shipyard.toml") is None
    assert verify.runner_check("pytest -q", "shipyard.toml") is None


@pytest.mark.parametrize(
    ("status", "output", "said"),
    [
        (
            1,
            "FAIL Required test coverage of 100% not reached. Total coverage: 33.26%\n"
            "90 tests collected in 1.10s\n",
            "pytest then exited 1: FAIL Required test coverage of 100% not reached. "
            "Total coverage: 33.26%",
        ),
        (0, "90 tests collected in 1.10s\n", None),
        (2, "ERROR collecting tests/test_db.py\n1 error in 0.2s\n", None),
        (2, "12 tests collected, 1 error in 0.3s\n", None),
        (4, "usage: pytest: error: unrecognized arguments: --nope\n", None),
    ],
)
def test_a_run_that_fails_after_a_clean_collection_is_still_verified(
    status: int, output: str, said: str | None
) -> None:
    """fastapi-realworld's --cov-fail-under=100 fails --collect-only; collecting did not fail."""
    assert verify.failed_after_collecting(status, output) == said
