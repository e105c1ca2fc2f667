"""The run's report for CI's summary page: counts, then the failed tests."""

from __future__ import annotations

from pathlib import Path

from shipyard.testing import summary

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5" time="1.25">
<testcase classname="tests.test_app" name="test_ok" time="0.1"/>
<testcase classname="tests.test_app" name="test_ok_too" time="0.1"/>
<testcase classname="tests.test_app" name="test_sum" time="0.1">
<failure message="assert 3 == 4&#10;  where 3 = add(1, 2)">trace</failure></testcase>
<testcase classname="tests.test_db" name="test_query" time="0.1">
<error message="failed on setup with &quot;OperationalError&quot;">trace</error></testcase>
<testcase classname="tests.test_db" name="test_later" time="0"><skipped message="later"/></testcase>
</testsuite></testsuites>
"""


def test_the_report_counts_and_names_the_failures(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text(JUNIT)
    assert summary.markdown(junit) == (
        "### Tests failed in the test image\n"
        "\n"
        "| passed | failed | skipped | time |\n"
        "|---:|---:|---:|---:|\n"
        "| 2 | 2 | 1 | 1.2 s |\n"
        "\n"
        "- `tests.test_app::test_sum`: assert 3 == 4\n"
        '- `tests.test_db::test_query`: failed on setup with "OperationalError"\n'
    )


def test_the_report_goes_where_ci_says_and_nowhere_otherwise(tmp_path: Path) -> None:
    (tmp_path / "junit.xml").write_text(JUNIT.replace('errors="1" failures="1"', ""))
    page = tmp_path / "summary.md"
    page.write_text("earlier step\n")
    assert summary.report(tmp_path, {}) is None
    assert summary.report(tmp_path, {"GITHUB_STEP_SUMMARY": str(page)}) == page
    assert page.read_text().startswith("earlier step\n### Tests failed in the test image\n")
    assert summary.report(tmp_path / "none", {"GITHUB_STEP_SUMMARY": str(page)}) is None
