"""Per-checkout tags go with their folder: recorded by each build, removed by gc once it is gone."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.core.workspace import open_workspace
from shipyard.stack import checkouts
from shipyard.testing import testrun
from tests.unit.fakes import FakeRunner
from tests.unit.testing.test_testrun import DANGLING as LISTING


def test_a_tag_goes_when_its_recorded_folder_is_gone(tmp_path: Path) -> None:
    here, gone = tmp_path / "here", tmp_path / "gone"
    here.mkdir()
    checkouts.remember("aaaaaaaaaa", here)
    checkouts.remember("bbbbbbbbbb", gone)
    tags = [
        "app:test-at-aaaaaaaaaa",
        "app:test-at-bbbbbbbbbb",
        "app:production-at-bbbbbbbbbb",
        "app:test-at-cccccccccc",  # no record: built elsewhere, stays
        "app:test",
        "app:test-1a2b3c4",
    ]
    assert checkouts.gone(tags) == [
        ("app:test-at-bbbbbbbbbb", str(gone)),
        ("app:production-at-bbbbbbbbbb", str(gone)),
    ]
    checkouts.forget(["app:test-at-bbbbbbbbbb"])
    assert checkouts.gone(tags) == []
    assert checkouts.record_file().is_file()


@pytest.mark.usefixtures("project")
def test_gc_removes_the_tags_of_a_gone_checkout_and_untagged_images(tmp_path: Path) -> None:
    checkouts.remember("bbbbbbbbbb", tmp_path / "deleted")
    listed = "111 <none>:<none>\n222 demo-app:test\n333 demo-app:test-at-bbbbbbbbbb\n"
    runner = FakeRunner(lambda argv: (0, listed if argv == LISTING else ""))
    lines = testrun.collect_garbage(open_workspace(runner), everywhere=False)
    assert lines == [
        "removed image 111 (untagged, left by a rebuild)",
        f"removed image tag demo-app:test-at-bbbbbbbbbb (its checkout {tmp_path / 'deleted'} is gone)",
    ]
    assert runner.argvs == [
        LISTING,
        ["docker", "rmi", "111"],
        ["docker", "rmi", "demo-app:test-at-bbbbbbbbbb"],
    ]
    assert checkouts.gone(["demo-app:test-at-bbbbbbbbbb"]) == []  # forgotten once removed


@pytest.mark.usefixtures("project")
def test_a_tag_a_container_still_uses_is_tried_again_next_time(tmp_path: Path) -> None:
    checkouts.remember("bbbbbbbbbb", tmp_path / "deleted")
    listed = "333 demo-app:test-at-bbbbbbbbbb\n"
    runner = FakeRunner(
        lambda argv: (0, listed) if argv == LISTING else (1, "", "image is being used")
    )
    testrun.collect_garbage(open_workspace(runner), everywhere=False)
    assert checkouts.gone(["demo-app:test-at-bbbbbbbbbb"]) != []
    dry = FakeRunner(lambda argv: (0, listed if argv == LISTING else ""))
    assert testrun.collect_garbage(open_workspace(dry), dry=True, everywhere=False) == [
        f"would remove image tag demo-app:test-at-bbbbbbbbbb (its checkout {tmp_path / 'deleted'} is gone)"
    ]
    assert dry.argvs == [LISTING]
