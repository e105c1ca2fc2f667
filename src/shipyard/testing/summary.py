"""A test run's report where CI shows it: the JUnit counts and failures, as Markdown.

On GitHub Actions, ``$GITHUB_STEP_SUMMARY`` names a file whose Markdown the
run's page shows. ``docker-test`` appends its report there, so a pipeline
needs no reporting action and no permission to write checks.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path

SUMMARY_VARIABLE = "GITHUB_STEP_SUMMARY"
LISTED = 20  # failed tests named in the report; the rest are counted


def markdown(junit: Path) -> str:
    """Return the report of a JUnit file: one table of counts, then the failed tests."""
    # The suite's own report, written by this run (expat refuses entity expansion bombs).
    root = ET.parse(junit).getroot()  # noqa: S314
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    count = {key: sum(int(s.get(key) or 0) for s in suites) for key in ("tests", "skipped")}
    time = sum(float(s.get("time") or 0) for s in suites)
    failed = [
        (f"{case.get('classname', '')}::{case.get('name', '')}".strip(":"), problem)
        for suite in suites
        for case in suite.iter("testcase")
        for problem in case
        if problem.tag in {"failure", "error"}
    ]
    passed = count["tests"] - count["skipped"] - len(failed)
    lines = [
        f"### {'Tests failed' if failed else 'Tests passed'} in the test image",
        "",
        "| passed | failed | skipped | time |",
        "|---:|---:|---:|---:|",
        f"| {passed} | {len(failed)} | {count['skipped']} | {time:.1f} s |",
    ]
    if failed:
        lines += ["", *(_line(name, problem) for name, problem in failed[:LISTED])]
        if len(failed) > LISTED:
            lines.append(f"- and {len(failed) - LISTED} more (results/junit.xml)")
    return "\n".join(lines) + "\n"


def _line(name: str, problem: ET.Element) -> str:
    message = (problem.get("message") or problem.tag).splitlines()
    first = message[0][:200] if message else problem.tag
    return f"- `{name}`: {first}"


def report(results: Path, environ: Mapping[str, str] = os.environ) -> Path | None:
    """Append the run's report to CI's summary file, if CI names one; return that file."""
    target = environ.get(SUMMARY_VARIABLE)
    junit = results / "junit.xml"
    if not target or not junit.is_file():
        return None
    with Path(target).open("a", encoding="utf-8") as summary:
        summary.write(markdown(junit))
    return Path(target)
