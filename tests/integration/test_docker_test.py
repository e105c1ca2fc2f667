"""`nox -s docker-test`: the service's tests inside the image, pass and fail, nothing left."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.integration.realstack import Stack, copy_stack, docker, remove_everything

FAILING = """
def test_deliberately_failing() -> None:
    assert 1 + 1 == 3
"""


def junit_counts(stack: Stack) -> tuple[int, int]:
    suite = ET.parse(stack.root / "results/junit.xml").getroot()  # noqa: S314 - our own file
    suite = suite if suite.tag == "testsuite" else suite[0]
    return int(suite.get("tests", -1)), int(suite.get("failures", -1))


def test_docker_test_passes_and_leaves_nothing(stack: Stack, tmp_path: Path) -> None:
    """The suite passes inside the test image; JUnit XML comes out; the stack is gone.

    On GitHub Actions the run's report also goes to the page's summary file.
    """
    page = tmp_path / "step-summary.md"
    result = stack.run("nox", "-s", "docker-test", env={"GITHUB_STEP_SUMMARY": str(page)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " 7 passed" in result.stdout + result.stderr
    assert junit_counts(stack) == (7, 0)
    assert "| 7 | 0 | 0 |" in page.read_text()
    assert stack.leftovers(f"{stack.name}-test") == {
        "containers": [],
        "networks": [],
        "volumes": [],
    }


def test_pytest_arguments_are_forwarded(stack: Stack) -> None:
    """`nox -s docker-test -- -k health` runs only the selected test."""
    result = stack.run("nox", "-s", "docker-test", "--", "-k", "health")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert " 1 passed, 6 deselected" in result.stdout + result.stderr
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
    assert "1 failed, 7 passed" in result.stdout + result.stderr
    assert junit_counts(stack) == (8, 1)
    assert stack.leftovers(f"{stack.name}-test") == {
        "containers": [],
        "networks": [],
        "volumes": [],
    }


def test_exit_status_is_pytests_own(stack: Stack) -> None:
    """No test selected is pytest's 5: nox and the CLI both exit 5, not a generic 1."""
    explained = "ERROR: pytest collected no test in the test image (exit 5)"
    via_nox = stack.run("nox", "-s", "docker-test", "--", "-k", "no_such_test")
    assert via_nox.returncode == 5, via_nox.stderr[-2000:]
    assert explained in via_nox.stderr
    assert "\nTIP: check the paths, -k and -m you passed" in via_nox.stderr
    assert "Traceback" not in via_nox.stderr
    via_cli = stack.run("python", "-m", "shipyard", "docker-test", "--", "-k", "no_such_test")
    assert via_cli.returncode == 5, via_cli.stderr[-2000:]
    assert explained in via_cli.stderr
    assert stack.leftovers(f"{stack.name}-test") == {
        "containers": [],
        "networks": [],
        "volumes": [],
    }


def container_events(since: float, project_label: str) -> list[tuple[int, str, str, str]]:
    """Return (time ns, action, service, exit code) of the containers carrying ``project_label``."""
    out = docker(
        "events",
        "--since",
        f"{since:.3f}",
        "--until",
        f"{time.time():.3f}",
        "--filter",
        "type=container",
        "--filter",
        f"label={project_label}",
        "--format",
        '{{.TimeNano}}\t{{.Action}}\t{{index .Actor.Attributes "com.docker.compose.service"}}'
        '\t{{index .Actor.Attributes "exitCode"}}',
    ).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    return [(int(t), action, service, code) for t, action, service, code in rows]


def test_a_slow_job_finishes_before_its_dependants_start(tmp_path: Path) -> None:
    """Migrate takes 4 s: the tests (docker-test) and the api (test-up) start only after it exits 0."""
    stack = copy_stack(tmp_path)
    overlay = stack.root / "compose/docker-compose.test.yml"
    overlay.write_text(
        overlay.read_text().replace(
            "  migrate:\n    <<: *test-image\n",
            '  migrate:\n    <<: *test-image\n    command: ["sh", "-c", '
            '"sleep 4 && exec python -m demo.migrate"]\n',
        )
    )
    try:
        for argv, dependant, label in (
            (
                ("nox", "-s", "docker-test", "--", "-k", "health"),
                "tests",
                f"dev.shipyard.project={stack.name}",
            ),
            (("inv", "test-up"), "api", f"com.docker.compose.project={stack.name}-test"),
        ):
            since = time.time()
            done = stack.run(*argv)
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
            events = container_events(since, label)
            [(migrated, _, _, code)] = [e for e in events if e[1:3] == ("die", "migrate")]
            assert code == "0"
            started = [e[0] for e in events if e[1:3] == ("start", dependant)]
            assert started, events
            assert min(started) > migrated, (argv, events)
    finally:
        stack.run("inv", "test-down")
        remove_everything(stack.name)
