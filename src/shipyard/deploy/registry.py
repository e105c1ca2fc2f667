"""Push an environment's images under their commit, and promote them by digest.

``push`` tags each image of an environment ``<registry>/<name>:<git sha>``
(immutable: one commit, one tag) and pushes it; ``promote`` gives the images
pushed for a commit the environment's own tag (``:prod``) in the registry
without building anything: the same manifests, so the same digests, under a
second tag.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from shipyard.core.errors import CommandFailed, ConfigError, ShipyardError
from shipyard.core.workspace import Workspace, git_sha
from shipyard.env.environment import Image


@dataclass(frozen=True)
class Pushed:
    """One image in the registry: its reference and its manifest digest."""

    ref: str
    digest: str

    def line(self) -> str:
        """Return ``ref  digest`` for the terminal."""
        return f"{self.ref}  {self.digest}"


def registry_of(ws: Workspace) -> str:
    """Return the registry setting, or stop saying how to set it."""
    if not ws.stack.registry:
        raise ConfigError(
            "no registry to push to",
            tip='set registry = "host:port/team" in [tool.shipyard] (or SHIPYARD_REGISTRY)',
        )
    return ws.stack.registry


def remote(registry: str, image: Image, tag: str) -> str:
    """Return the registry reference of ``image`` under ``tag``."""
    return f"{registry}/{image.repository.rsplit('/', 1)[-1]}:{tag}"


def digest_of(ws: Workspace, ref: str) -> str:
    """Return the registry digest the engine recorded for ``ref`` (after a push or pull)."""
    found = ws.runner.run(
        ["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", ref],
        capture=True,
        query=True,
    )
    repository = ref.rsplit(":", 1)[0]
    digests = json.loads(found.stdout or "[]") or []
    return next((d.split("@", 1)[1] for d in digests if d.startswith(f"{repository}@")), "")


NOT_THERE = ("manifest unknown", "not found", "does not exist")


def _transfer(ws: Workspace, argv: list[str], what: str) -> None:
    try:
        ws.runner.run(argv, capture=True)
    except CommandFailed as exc:
        said = (exc.stderr or exc.stdout).strip().splitlines()
        last = said[-1] if said else f"exit {exc.returncode}"
        if argv[1] == "pull" and any(words in last.lower() for words in NOT_THERE):
            raise ConfigError(
                f"{argv[-1]} is not in the registry",
                tip="push it first: 'inv push --env prod' (then 'inv promote --from SHA')",
            ) from None
        raise ShipyardError(
            f"{what} failed: {last}",
            tip="check that the registry is reachable ('docker login' when it needs one)",
        ) from None


def pinned(ws: Workspace, ref: str) -> str:
    """Pull ``ref`` and return it pinned by its registry digest (``repo@sha256:...``)."""
    _transfer(ws, ["docker", "pull", "--quiet", ref], f"pulling {ref}")
    return f"{ref.rsplit(':', 1)[0]}@{digest_of(ws, ref)}"


def push(ws: Workspace, env: str, images: Sequence[Image]) -> list[Pushed]:
    """Push each built image of ``env`` as ``<registry>/<name>:<sha>``; return their digests."""
    registry = registry_of(ws)
    sha = git_sha(ws)
    if not sha:
        raise ConfigError(
            "no git commit to tag the images with",
            tip="commit first: images are pushed under the commit they were built from",
        )
    missing = [
        image.ref
        for image in images
        if not ws.runner.run(
            ["docker", "image", "inspect", image.ref], capture=True, check=False, query=True
        ).ok
    ]
    if missing:
        raise ConfigError(
            f"not built yet: {', '.join(missing)}",
            tip=f"build them first: 'inv docker-build --env {env}'",
        )
    pushed = []
    for image in images:
        ref = remote(registry, image, sha)
        ws.runner.run(["docker", "tag", image.ref, ref])
        _transfer(ws, ["docker", "push", ref], f"pushing {ref}")
        pushed.append(Pushed(ref, digest_of(ws, ref)))
    return pushed


def promote(ws: Workspace, env: str, images: Sequence[Image], sha: str) -> list[Pushed]:
    """Tag the images pushed for commit ``sha`` as ``:<env>`` in the registry; never build."""
    registry = registry_of(ws)
    promoted = []
    for image in images:
        source, target = remote(registry, image, sha), remote(registry, image, env)
        _transfer(ws, ["docker", "pull", "--quiet", source], f"pulling {source}")
        digest = digest_of(ws, source)
        ws.runner.run(["docker", "tag", source, target])
        _transfer(ws, ["docker", "push", target], f"pushing {target}")
        promoted.append(Pushed(target, digest_of(ws, target)))
        if promoted[-1].digest != digest:  # pragma: no cover - the registry changed the manifest
            msg = f"{target} got {promoted[-1].digest}, not {source}'s {digest}"
            raise ShipyardError(msg, tip="promote again; report it if it persists")
    return promoted
