"""Argv for ``docker build``: one Dockerfile, any target, BuildKit secrets, never build args.

Each target is tagged ``<image>:<target>`` and, in a git checkout,
``<image>:<target>-<short sha>``. The CA bundle (corporate proxies, and these
machines) reaches the build as the BuildKit secret ``ca``: the Dockerfile
mounts it only in the steps that download, so it never lands in a layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from shipyard.compose import display_path
from shipyard.config import Stack
from shipyard.engine import Engine

CA_SECRET_ID = "ca"  # noqa: S105 - the secret's id, not a secret


def image_tags(stack: Stack, target: str, sha: str | None = None) -> list[str]:
    """Return the tags a build of ``target`` gets."""
    tags = [f"{stack.image}:{target}"]
    if sha:
        tags.append(f"{stack.image}:{target}-{sha}")
    return tags


def build_command(
    engine: Engine,
    stack: Stack,
    target: str,
    *,
    sha: str | None = None,
    no_cache: bool = False,
    ca_bundle: Path | None = None,
    cache_from: Sequence[str] = (),
) -> list[str]:
    """Return the build argv for ``target`` (see :meth:`Engine.build_env` for its environment)."""
    argv = [*engine.build_argv(), "--file", display_path(stack.dockerfile), "--target", target]
    for tag in image_tags(stack, target, sha):
        argv += ["--tag", tag]
    argv += ["--label", f"org.opencontainers.image.title={stack.project}"]
    argv += ["--label", f"dev.shipyard.target={target}"]
    if sha:
        argv += ["--label", f"org.opencontainers.image.revision={sha}"]
    if ca_bundle is not None:
        argv += ["--secret", f"id={CA_SECRET_ID},src={display_path(ca_bundle)}"]
    for ref in cache_from:
        argv += ["--cache-from", ref]
    if no_cache:
        argv.append("--no-cache")
    argv.append(display_path(stack.context))
    return argv
