"""`inv push` and `inv promote` against a real registry:2: digests equal, nothing rebuilt."""

from __future__ import annotations

import subprocess
import urllib.request

from tests.integration.realstack import Stack

MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


def registry_digest(registry: str, repository: str, tag: str) -> str:
    """Ask the registry itself which manifest a tag names."""
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{tag}", headers={"Accept": MANIFEST}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        return str(answer.headers["Docker-Content-Digest"])


def test_push_then_promote_by_digest_without_a_build(committed: Stack, registry: str) -> None:
    """Push under the commit; promote to :prod; the registry's digests are the same, no build."""
    env = {"SHIPYARD_REGISTRY": f"{registry}/team"}
    early = committed.run("inv", "push", env=env)
    assert early.returncode == 1
    assert f"ERROR: not built yet: {committed.name}:production" in early.stderr
    assert "TIP: build them first: 'inv docker-build --env prod'" in early.stderr

    assert committed.run("inv", "docker-build", "--env", "prod").returncode == 0
    pushed = committed.run("inv", "push", env=env)
    assert pushed.returncode == 0, pushed.stderr[-2000:]
    sha = subprocess.run(
        ["git", "-C", str(committed.root), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    lines = dict(line.split() for line in pushed.stdout.splitlines() if line.count(" ") == 2)
    assert sorted(lines) == [
        f"{registry}/team/{committed.name}-proxy:{sha}",
        f"{registry}/team/{committed.name}:{sha}",
    ]
    digest = lines[f"{registry}/team/{committed.name}:{sha}"]
    assert digest.startswith("sha256:")
    assert registry_digest(registry, f"team/{committed.name}", sha) == digest

    promoted = committed.run("inv", "promote", "--from", sha, "--to", "prod", env=env)
    assert promoted.returncode == 0, promoted.stderr[-2000:]
    assert f"{registry}/team/{committed.name}:prod  {digest}" in promoted.stdout.splitlines()
    assert registry_digest(registry, f"team/{committed.name}", "prod") == digest
    echoed = promoted.stdout + promoted.stderr
    assert "bake" not in echoed
    assert "docker build" not in echoed  # promoted, not rebuilt

    unknown = committed.run("inv", "promote", "--from", "0000000", "--to", "prod", env=env)
    assert unknown.returncode == 1
    assert (
        f"ERROR: {registry}/team/{committed.name}:0000000 is not in the registry" in unknown.stderr
    )
    assert "Traceback" not in unknown.stderr


def test_push_without_a_registry_says_how_to_set_one(committed: Stack) -> None:
    """No registry setting: one ERROR and the line to add."""
    done = committed.run("inv", "push")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "ERROR: no registry to push to",
        'TIP: set registry = "host:port/team" in [tool.shipyard] (or SHIPYARD_REGISTRY)',
    ]
