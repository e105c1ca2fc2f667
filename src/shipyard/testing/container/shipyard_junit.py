"""Django's test runner of the project, writing JUnit XML: mounted into docker-test's container.

``docker-test`` runs ``manage.py test --testrunner shipyard_junit.Runner``
with this folder on PYTHONPATH. ``Runner`` is the project's own runner
(``TEST_RUNNER``, a custom one included) with only its unittest runner
swapped for one that also records each test; the project's setup, database
handling and ``run_suite`` stay its own. The report goes to
``$SHIPYARD_JUNIT_XML``. Standard library only: nothing to install.
"""

import os
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

from django.conf import settings
from django.test.utils import get_runner


class _Result(unittest.TextTestResult):
    """A text result that also keeps each test's outcome and time."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.cases = []
        self._started = 0.0

    def startTest(self, test):
        self._started = time.perf_counter()
        super().startTest(test)

    def _record(self, test, outcome, text=""):
        self.cases.append((test, outcome, text, time.perf_counter() - self._started))

    def addSuccess(self, test):
        super().addSuccess(test)
        self._record(test, "passed")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._record(test, "failure", self._exc_info_to_string(err, test))

    def addError(self, test, err):
        super().addError(test, err)
        self._record(test, "error", self._exc_info_to_string(err, test))

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._record(test, "skipped", reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._record(test, "passed")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._record(test, "failure", "unexpected success")


class _JUnitRunner(unittest.TextTestRunner):
    """unittest's text runner that writes the JUnit XML report when the suite ends."""

    resultclass = _Result

    def __init__(self, *args, resultclass=None, **kwargs):
        # Django may pass its own result class (--debug-sql, --pdb): keep ours.
        super().__init__(*args, **kwargs)

    def run(self, test):
        started = time.perf_counter()
        result = super().run(test)
        _write(result, time.perf_counter() - started)
        return result


def _write(result, elapsed):
    suite = ET.Element("testsuite", name="django", time=f"{elapsed:.3f}")
    counts = {"failure": 0, "error": 0, "skipped": 0}
    for test, outcome, text, seconds in getattr(result, "cases", []):
        test_id = test.id()
        classname, _, name = test_id.rpartition(".")
        case = ET.SubElement(
            suite, "testcase", classname=classname, name=name, time=f"{seconds:.3f}"
        )
        if outcome in counts:
            counts[outcome] += 1
            ET.SubElement(case, outcome, message=text.splitlines()[-1] if text else "").text = text
    suite.set("tests", str(len(getattr(result, "cases", []))))
    suite.set("failures", str(counts["failure"]))
    suite.set("errors", str(counts["error"]))
    suite.set("skipped", str(counts["skipped"]))
    root = ET.Element("testsuites")
    root.append(suite)
    path = Path(os.environ.get("SHIPYARD_JUNIT_XML", "junit.xml"))
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


class Runner(get_runner(settings)):  # the project's TEST_RUNNER (Django's own by default)
    """The project's test runner, with a unittest runner that writes JUnit XML."""

    test_runner = _JUnitRunner
