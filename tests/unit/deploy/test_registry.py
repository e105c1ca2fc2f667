"""push and promote: the exact commands, and the errors before any of them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from shipyard.core.errors import ConfigError
from shipyard.core.workspace import open_workspace
from shipyard.deploy import registry
from tests.unit.conftest import app_image
from tests.unit.fakes import FakeRunner

REG = "127.0.0.1:5000/team"


def engine(digest: str = "sha256:abc") -> FakeRunner:
    def script(argv: list[str]) -> tuple[int, str]:
        if argv[:2] == ["git", "-C"]:
            return 0, "1234567\n"
        if argv[-2:-1] == ["{{json .RepoDigests}}"]:
            ref = argv[-1]
            return 0, json.dumps([f"{ref.rsplit(':', 1)[0]}@{digest}"])
        return 0, ""

    return FakeRunner(script)


def test_push_tags_with_the_commit_and_reports_the_digest(project: Path) -> None:
    """Tag <registry>/<name>:<sha>, push, read the digest: nothing else."""
    runner = engine()
    ws = open_workspace(runner)
    ws = replace(ws, stack=replace(ws.stack, registry=REG))
    pushed = registry.push(ws, "prod", [app_image(project, "production")])
    assert [p.line() for p in pushed] == [f"{REG}/demo-app:1234567  sha256:abc"]
    ref = f"{REG}/demo-app:1234567"
    assert runner.argvs[-5:] == [
        ["git", "-C", ".", "rev-parse", "--short", "HEAD"],
        ["docker", "image", "inspect", "demo-app:production"],
        ["docker", "tag", "demo-app:production", ref],
        ["docker", "push", ref],
        ["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", ref],
    ]


def test_promote_pulls_tags_and_pushes_the_same_manifest(project: Path) -> None:
    """Pull the commit's image, tag it :prod, push: no build command at all."""
    runner = engine()
    ws = replace(open_workspace(runner), stack=replace(open_workspace(runner).stack, registry=REG))
    promoted = registry.promote(ws, "prod", [app_image(project, "production")], "1234567")
    source, target = f"{REG}/demo-app:1234567", f"{REG}/demo-app:prod"
    assert [p.line() for p in promoted] == [f"{target}  sha256:abc"]
    assert runner.argvs[-5:] == [
        ["docker", "pull", "--quiet", source],
        ["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", source],
        ["docker", "tag", source, target],
        ["docker", "push", target],
        ["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", target],
    ]
    assert not [argv for argv in runner.argvs if "build" in argv or "bake" in argv]


def test_without_a_registry_nothing_runs(project: Path) -> None:
    """The setting is checked before any command."""
    runner = engine()
    ws = open_workspace(runner)
    before = len(runner.argvs)
    with pytest.raises(ConfigError, match="no registry to push to"):
        registry.push(ws, "prod", [app_image(project, "production")])
    assert len(runner.argvs) == before
