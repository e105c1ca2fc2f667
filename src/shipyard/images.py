"""Argv for ``docker build``: one Dockerfile, any target, BuildKit secrets, never build args.

Each target is tagged ``<image>:<target>`` and, in a git checkout,
``<image>:<target>-<short sha>``. The CA bundle (corporate proxies, and these
machines) reaches the build as the BuildKit secret ``ca``: the Dockerfile
mounts it only in the steps that download, so it never lands in a layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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


def secret_specs(sources: Mapping[str, str], environ: Mapping[str, str]) -> list[str]:
    """Turn ``[tool.shipyard.build-secrets]`` into ``--secret`` values, skipping unset ones.

    ``id = "VAR"`` passes the environment variable VAR (its value never appears
    in a command line); ``id = "file:path"`` passes a file. A secret whose
    source is not there is left out: BuildKit secret mounts are optional.
    """
    specs = []
    for secret_id, source in sorted(sources.items()):
        if source.startswith("file:"):
            path = Path(source.removeprefix("file:"))
            if path.is_file():
                specs.append(f"id={secret_id},src={display_path(path)}")
        elif environ.get(source):
            specs.append(f"id={secret_id},env={source}")
    return specs


def build_command(
    engine: Engine,
    stack: Stack,
    target: str,
    *,
    sha: str | None = None,
    no_cache: bool = False,
    ca_bundle: Path | None = None,
    secrets: Sequence[str] = (),
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
    for spec in secrets:
        argv += ["--secret", spec]
    for ref in cache_from:
        argv += ["--cache-from", ref]
    if no_cache:
        argv.append("--no-cache")
    argv.append(display_path(stack.context))
    return argv
