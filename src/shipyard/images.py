"""Argv for ``docker build``: one Dockerfile, any target, BuildKit secrets, never build args.

Each target is tagged ``<image>:<target>`` and, in a git checkout,
``<image>:<target>-<short sha>``. The CA bundle (corporate proxies, and these
machines) reaches the build as the BuildKit secret ``ca``: the Dockerfile
mounts it only in the steps that download, so it never lands in a layer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from shipyard.compose import display_path
from shipyard.config import Stack
from shipyard.engine import Engine
from shipyard.errors import ConfigError

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


@dataclass(frozen=True)
class CachePlan:
    """How a build reuses (and, in CI, shares) layers through a registry."""

    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    build_args: Mapping[str, str] = field(default_factory=dict)
    push: str | None = None  # the classic builder: push this tag to share its inline cache


def cache_plan(engine: Engine, ref: str | None, target: str, *, push: bool) -> CachePlan:
    """Plan registry caching for ``target`` from ``cache-ref`` (None: no registry cache).

    With buildx, ``--cache-from``/``--cache-to type=registry`` (``mode=max``,
    every stage); ``cache-ref = "type=gha"`` (or any exporter spec) is passed
    as it is. Without buildx, BuildKit's inline cache: the image itself
    carries the cache metadata, is pushed as ``<ref>:<target>`` and read back
    with ``--cache-from``. A missing cache image only costs a warning.
    """
    if not ref:
        return CachePlan()
    if ref.startswith("type="):
        if not engine.buildx:
            raise ConfigError(
                f"cache-ref {ref!r} is a buildx cache exporter, and this Docker has no buildx",
                tip="install docker buildx, or set cache-ref to a registry image name",
            )
        return CachePlan((ref,), (f"{ref},mode=max",) if push else ())
    image = f"{ref}:{target}"
    if engine.buildx:
        to = (f"type=registry,ref={image},mode=max",) if push else ()
        return CachePlan((f"type=registry,ref={image}",), to)
    if push:
        return CachePlan((image,), (), {"BUILDKIT_INLINE_CACHE": "1"}, push=image)
    return CachePlan((image,))


def build_command(
    engine: Engine,
    stack: Stack,
    target: str,
    *,
    sha: str | None = None,
    no_cache: bool = False,
    ca_bundle: Path | None = None,
    secrets: Sequence[str] = (),
    cache: CachePlan | None = None,
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
    plan = cache or CachePlan()
    for name, value in sorted(plan.build_args.items()):
        argv += ["--build-arg", f"{name}={value}"]
    for ref in plan.cache_from:
        argv += ["--cache-from", ref]
    for ref in plan.cache_to:
        argv += ["--cache-to", ref]
    if no_cache:
        argv.append("--no-cache")
    argv.append(display_path(stack.context))
    return argv
