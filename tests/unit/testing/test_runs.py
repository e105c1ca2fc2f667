from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
import yaml

from shipyard.testing import runs
from tests.unit.fakes import FakeRunner

RUN = runs.Run("demo", "test", "ab12cd34", host="ci-box")


@pytest.fixture(autouse=True)
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep lock files of these tests apart from real runs."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def test_labels() -> None:
    """Everything a run creates says shipyard, project, environment, run and host."""
    assert RUN.compose_project == "demo-test-ab12cd34"
    assert RUN.labels() == {
        "dev.shipyard.managed": "true",
        "dev.shipyard.project": "demo",
        "dev.shipyard.env": "test",
        "dev.shipyard.run": "ab12cd34",
        "dev.shipyard.host": "ci-box",
    }


def test_labels_overlay_covers_services_networks_and_volumes() -> None:
    """Every service, volume and network of the merged model, and the default network."""
    data = yaml.safe_load(runs.labels_overlay(RUN, ["db", "api", "tests"], ["back"], ["data"]))
    labels = RUN.labels()
    assert data == {
        "services": {
            "api": {"labels": labels},
            "db": {"labels": labels},
            "tests": {"labels": labels},
        },
        "networks": {"back": {"labels": labels}, "default": {"labels": labels}},
        "volumes": {"data": {"labels": labels}},
    }


def test_a_runs_built_services_run_this_checkouts_tags() -> None:
    """Another checkout's build moves the shared tag, never this checkout's own."""
    images = {"api": "demo:test-at-0123456789", "tests": "demo:test-at-0123456789"}
    data = yaml.safe_load(runs.labels_overlay(RUN, ["db", "api", "tests"], [], [], images))
    assert data["services"]["db"] == {"labels": RUN.labels()}  # pulled: no image of ours
    assert data["services"]["tests"] == {
        "labels": RUN.labels(),
        "image": "demo:test-at-0123456789",
    }


def test_holding_locks_while_alive_and_cleans_up() -> None:
    """While held the run is alive; afterwards the lock and overlay files are gone."""
    with runs.holding(RUN, "services: {}\n") as overlay:
        assert overlay.read_text() == "services: {}\n"
        assert runs.is_alive(RUN)
    assert not runs.is_alive(RUN)
    assert not RUN.lock_file.exists()
    assert not overlay.exists()


def test_a_lock_file_nobody_holds_is_dead() -> None:
    """What kill -9 leaves: the file, with no lock on it."""
    runs.runs_dir().mkdir(parents=True)
    RUN.lock_file.write_text("12345\n")
    assert not runs.is_alive(RUN)


def listing(rows: dict[str, str]) -> FakeRunner:
    def script(argv: list[str]) -> tuple[int, str]:
        for key, out in rows.items():
            if key in argv:
                return 0, out
        return 0, ""

    return FakeRunner(script)


def test_find_and_remove_leftovers() -> None:
    """Resources are grouped by run; removal is rm -f, network rm, volume rm."""
    runner = listing(
        {
            "ps": "demo-test-ab12cd34-db-1\ttest\tab12cd34\tci-box\ndemo-test-ff-db-1\ttest\tff\tother-box\n",
            "network": "demo-test-ab12cd34_default\ttest\tab12cd34\tci-box\n",
            "volume": "",
        }
    )
    found = runs.find_leftovers(runner, "demo")
    assert runner.argvs[0] == [
        "docker",
        "ps",
        "--all",
        "--format",
        '{{.Names}}\t{{.Label "dev.shipyard.env"}}\t{{.Label "dev.shipyard.run"}}\t{{.Label "dev.shipyard.host"}}',
        "--filter",
        "label=dev.shipyard.project=demo",
        "--filter",
        "label=dev.shipyard.run",
    ]
    assert [(f.run.run_id, f.run.host, f.containers, f.networks) for f in found] == [
        ("ab12cd34", "ci-box", ["demo-test-ab12cd34-db-1"], ["demo-test-ab12cd34_default"]),
        ("ff", "other-box", ["demo-test-ff-db-1"], []),
    ]
    assert [f.run.run_id for f in runs.stale(found, host="ci-box")] == ["ab12cd34"]
    remover = FakeRunner()
    runs.remove(remover, found[0])
    assert remover.argvs == [
        ["docker", "rm", "--force", "--volumes", "demo-test-ab12cd34-db-1"],
        ["docker", "network", "rm", "demo-test-ab12cd34_default"],
    ]


def test_a_live_run_is_never_stale() -> None:
    """Gc leaves a run alone while its process holds the lock."""
    leftovers = [runs.Leftovers(RUN, containers=["c"])]
    with runs.holding(RUN, ""):
        assert runs.stale(leftovers, host="ci-box") == []
    assert runs.stale(leftovers, host="ci-box") == leftovers


def test_one_run_only() -> None:
    """The teardown sweep looks at its own run id only."""
    runner = listing({})
    runs.find_leftovers(runner, "demo", "ab12cd34")
    assert runner.argvs[0][-1] == "label=dev.shipyard.run=ab12cd34"


def test_a_run_id_that_looks_like_a_number_stays_a_string() -> None:
    """399147e1 is a float to Compose's YAML: the overlay quotes every label value."""
    run = runs.Run("demo", "test", "399147e1")
    text = runs.labels_overlay(run, ["tests"], [], [])
    assert '"399147e1"' in text
    assert json.loads(text.split("\n", 1)[1])["services"]["tests"]["labels"] == run.labels()
