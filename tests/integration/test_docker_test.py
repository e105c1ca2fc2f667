"""`nox -s docker-test`: the service's tests inside the image, pass and fail, nothing left."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.integration.realstack import Stack

FAILING = """
def test_deliberately_failing() -> None:
    assert 1 + 1 == 3
"""


def junit_counts(stack: Stack) -> tuple[int, int]:
    suite = ET.parse(stack.root / "results/junit.xml").getroot()  # noqa: S314 - our own file
    suite = suite if suite.tag == "testsuite" else suite[0]
    return int(suite.get("tests", -1)), int(suite.get("failures", -1))


def test_docker_test_passes_and_leaves_nothing(stack: Stack) -> None:
    """The suite passes inside the test image; JUnit XML comes out; the stack is gone."""
    result = stack.run("nox", "-s", "docker-test")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " 5 passed" in result.stdout + result.stderr
    assert junit_counts(stack) == (5, 0)
    assert stack.leftovers(f"{stack.name}-test") == {
        "containers": [],
        "networks": [],
        "volumes": [],
    }


def test_pytest_arguments_are_forwarded(stack: Stack) -> None:
    """`nox -s docker-test -- -k health` runs only the selected test."""
    result = stack.run("nox", "-s", "docker-test", "--", "-k", "health")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " 1 passed, 4 deselected" in result.stdout + result.stderr
    assert stack.leftovers(f"{stack.name}-test")["containers"] == []


def test_a_failing_test_fails_the_run_and_still_tears_down(stack: Stack) -> None:
    """Pytest's status 1 comes out of nox; the failure is in the JUnit XML; nothing is left."""
    broken = stack.root / "app/tests/test_broken.py"
    broken.write_text(FAILING)
    try:
        result = stack.run("nox", "-s", "docker-test")
    finally:
        broken.unlink()
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "1 failed, 5 passed" in result.stdout + result.stderr
    assert junit_counts(stack) == (6, 1)
    assert stack.leftovers(f"{stack.name}-test") == {
        "containers": [],
        "networks": [],
        "volumes": [],
    }


def test_exit_status_is_pytests_own(stack: Stack) -> None:
    """No test selected is pytest's 5: nox and the CLI both exit 5, not a generic 1."""
    via_nox = stack.run("nox", "-s", "docker-test", "--", "-k", "no_such_test")
    assert via_nox.returncode == 5, via_nox.stderr[-2000:]
    via_cli = stack.run("python", "-m", "shipyard", "docker-test", "--", "-k", "no_such_test")
    assert via_cli.returncode == 5, via_cli.stderr[-2000:]
    assert stack.leftovers(f"{stack.name}-test") == {
        "containers": [],
        "networks": [],
        "volumes": [],
    }
