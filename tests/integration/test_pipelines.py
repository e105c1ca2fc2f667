"""The GitLab pipeline `shipyard init` writes, run end to end by gitlab-ci-local on the real engine.

gitlab-ci-local (npm) runs a .gitlab-ci.yml's jobs on this machine as a shell
runner would, each in its own copy of the project (--shell-isolation). The
pipeline of an adopted fixture must run lint, docker-test and, on the default
branch with SHIPYARD_REGISTRY set, the release to a real registry; JUnit in
the artifacts, nothing of the project left on the engine.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.integration.realstack import REPO, Stack, docker, remove_everything

FIXTURES = REPO / "tests/fixtures/adopt"
GITLAB_CI_LOCAL = "gitlab-ci-local@4.73.0"  # the last release that runs on Node.js 20


def gitlab_ci_local() -> Path:
    """Return gitlab-ci-local, installed once from the npm registry into a cache folder."""
    folder = Path.home() / ".cache/shipyard-tests" / GITLAB_CI_LOCAL.replace("@", "-")
    program = folder / "node_modules/.bin/gitlab-ci-local"
    if not program.exists():
        npm = shutil.which("npm")
        assert npm, "gitlab-ci-local needs Node.js and npm"
        subprocess.run(
            [npm, "install", "--silent", "--prefix", str(folder), GITLAB_CI_LOCAL],
            check=True,
            capture_output=True,
            timeout=300,
        )
    assert shutil.which("rsync"), "gitlab-ci-local copies the project with rsync"
    return program


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@example.org", "-c", "user.name=ci", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_the_generated_gitlab_pipeline_runs_green(tmp_path: Path, registry: str) -> None:
    """lint, docker-test (JUnit in its artifacts) and the release to a registry, all green."""
    program = gitlab_ci_local()
    name = f"sy-gl-{uuid.uuid4().hex[:6]}"
    root = tmp_path / name
    shutil.copytree(FIXTURES / "pip-flask", root)
    (root / "shipyard.toml").write_text(
        f'project = "{name}"\n\n[init]\nci = ["gitlab"]\n'
        f'ci-install = "shipyard @ {REPO.as_uri()}"\n'
    )
    stack = Stack(root, name, 0)
    try:
        git(root, "init", "--quiet", "--initial-branch", "main")
        init = stack.run("shipyard", "init", "--no-verify")
        assert init.returncode == 0, init.stdout[-2000:] + init.stderr[-2000:]
        assert (root / ".gitlab-ci.yml").is_file()
        assert not (root / ".github").exists()  # the ci setting chose GitLab only
        git(root, "add", "--all")
        git(root, "commit", "--quiet", "--message", "adopted")
        run = subprocess.run(
            [
                str(program),
                "--shell-isolation",
                "--variable",
                f"SHIPYARD_REGISTRY={registry}/team",
                "lint",
                "docker-test",
                "release",
            ],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        out = run.stdout + run.stderr
        assert run.returncode == 0, out[-4000:]
        for job in ("lint", "docker-test", "release"):
            assert f" PASS  {job}" in out, out[-4000:]
        junit = root / ".gitlab-ci-local/artifacts/docker-test/results/junit.xml"
        suites = ET.parse(junit).getroot()  # noqa: S314 - the report this test's run wrote
        suite = suites if suites.tag == "testsuite" else suites[0]
        assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "0", "0")
        # The release pushed the production image of this commit and promoted it.
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        url = f"http://{registry}/v2/team/{name}/tags/list"
        with urllib.request.urlopen(url, timeout=10) as answer:
            assert set(json.load(answer)["tags"]) == {sha, "prod"}
        assert not (root / ".venv").exists()  # the jobs ran in their own copies
    finally:
        remove_everything(name)
    assert stack.leftovers() == {"containers": [], "networks": [], "volumes": []}
    assert name not in docker("images", "--format", "{{.Repository}}").stdout
