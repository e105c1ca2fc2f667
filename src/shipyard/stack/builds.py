"""Build a stack's images: one ``docker buildx bake`` per wave, or ``docker build`` per image.

With buildx, BuildKit gets every image of a wave in one bake, so stages that
several images share (a ``base`` under three role targets) are built once and
the rest in parallel. Without it (``builder = "docker"``, older engines), one
classic build per image, in dependency order. Both tag, label and mount
secrets the same way, so they produce the same image set.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from shipyard.core.errors import CommandFailed, ConfigError, did_you_mean
from shipyard.core.workspace import Workspace, display_path, git_sha
from shipyard.env.environment import Environment, Image, resolve
from shipyard.stack import checkouts, freshness
from shipyard.stack.buildlog import explain
from shipyard.stack.images import (
    BuildOptions,
    CachePlan,
    bake_command,
    bake_definition,
    build_command,
    build_waves,
    cache_plan,
    labels,
    preflight,
    secret_specs,
)

BUILD_LOG = "build.log"  # under results/logs: the last failed build's whole BuildKit log


def unique_images(environments: Iterable[Environment]) -> list[Image]:
    """Return the images of ``environments``, each name once (the first definition wins)."""
    found: dict[str, Image] = {}
    for environment in environments:
        for image in environment.images:
            found.setdefault(image.ref, image)
    return list(found.values())


def images_of_environments(ws: Workspace, names: Sequence[str]) -> list[Image]:
    """Return the images that ``names`` (default: every environment) build, each once."""
    chosen = names or ws.stack.environments
    return unique_images(resolve(ws, name, create=False) for name in chosen)


def select(images: Sequence[Image], *, service: str = "", target: str = "") -> list[Image]:
    """Keep the images that run ``service`` and/or build ``target``; none matching is an error."""
    chosen = [
        image
        for image in images
        if (not service or service in image.services) and (not target or image.target == target)
    ]
    if not chosen:
        services = sorted({s for i in images for s in i.services})
        targets = sorted({i.target for i in images if i.target})
        what = " and ".join(
            part
            for part in (
                f"service {service!r}{did_you_mean(service, services)}" if service else "",
                f"target {target!r}{did_you_mean(target, targets)}" if target else "",
            )
            if part
        )
        known = ", ".join(f"{i.ref} ({'/'.join(i.services)})" for i in images)
        example = next((i.services[0] for i in images if i.services), None)
        tip = (
            f"pick a service that is built, e.g. 'inv docker-build --service {example}' "
            f"(images: {known})"
            if example
            else "these compose files build no image: give a service a build: section"
        )
        raise ConfigError(f"no image to build for {what}", tip=tip)
    return chosen


def _options(ws: Workspace, *, no_cache: bool) -> BuildOptions:
    stack = ws.stack
    ca_bundle = stack.ca_bundle
    if ca_bundle is not None and not ca_bundle.is_file():
        raise ConfigError(
            f"the CA bundle {ca_bundle} (from {stack.sources.get('ca-bundle')}) does not exist",
            tip="point SSL_CERT_FILE / ca-bundle at your proxy's CA file, or unset it",
        )
    if not ws.runner.dry:  # its per-checkout tags go with the folder (`inv gc`)
        checkouts.remember(stack.checkout, stack.root.resolve())
    return BuildOptions(
        project=stack.project,
        sha=git_sha(ws),
        no_cache=no_cache,
        ca_bundle=ca_bundle,
        secrets=tuple(secret_specs(stack.build_secrets, os.environ)),
        checkout=stack.checkout,
    )


def _bake(
    ws: Workspace, wave: Sequence[Image], options: BuildOptions, caches: dict[str, CachePlan]
) -> None:
    definition = bake_definition(wave, options, caches)
    text = json.dumps(definition, indent=2)
    if ws.runner.dry:
        ws.say(f"bake definition:\n{text}")
    with tempfile.TemporaryDirectory(prefix="shipyard-bake-") as folder:
        path = Path(folder) / "docker-bake.json"
        path.write_text(text, encoding="utf-8")
        with explained(wave, build_log(ws)):
            # From the definition's folder: bake reads a .env where it runs, and a
            # project's .env/ folder (or a line it cannot parse) fails every build.
            ws.runner.run(bake_command(path), tee=True, cwd=Path(folder))


def build_log(ws: Workspace) -> Path | None:
    """Return where a failed build's whole log is kept (None on a dry run)."""
    return None if ws.runner.dry else ws.stack.results_dir / "logs" / BUILD_LOG


@contextmanager
def explained(images: Sequence[Image], log_file: Path | None = None) -> Iterator[None]:
    """Turn a failed build of ``images`` into the error its BuildKit log explains.

    The whole log goes to ``log_file``: the terminal shows it once, as it runs,
    and the error only the failing step's last lines.
    """
    try:
        yield
    except CommandFailed as failed:
        dockerfiles = {display_path(image.dockerfile) for image in images}
        named = dockerfiles.pop() if len(dockerfiles) == 1 else "the Dockerfile"
        what = ", ".join(image.ref for image in images)
        error = explain(failed.stderr, what, named)
        if error is None:
            raise
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            log_file.write_text(failed.stderr, encoding="utf-8")
            kept = f"the whole build log: {display_path(log_file)}"
            error.details = "\n".join(filter(None, (error.details, kept)))
        raise error from None


def _preflight(images: Sequence[Image]) -> None:
    """Raise before any build when a Dockerfile or a file it needs is missing."""
    problems: dict[tuple[str, str], list[str]] = {}
    for image in images:
        for found in preflight(image):
            problems.setdefault(found, []).append(image.ref)
    if problems:  # a missing file would be buried in the build log
        lines = [
            f"{problem} (building {', '.join(refs)})" for (problem, _), refs in problems.items()
        ]
        raise ConfigError(
            lines[0],
            details="\n".join(lines[1:]),
            tip="; ".join(dict.fromkeys(fix for _, fix in problems)),
        )


def _stale(
    ws: Workspace, images: Sequence[Image], options: BuildOptions, tags: dict[str, list[str]]
) -> tuple[list[Image], dict[str, str]]:
    """Return the images to build (inputs changed, or built on one that is) and the digests."""
    fresh, digests = freshness.unchanged(
        ws.runner,
        images,
        tags,
        {image.ref: labels(image, options.project, options.sha) for image in images},
        options.checkout,
    )
    todo = _with_dependents(images, [image for image in images if image not in fresh], tags)
    if len(todo) < len(images):
        ws.say(
            "up to date (nothing they are built from changed): "
            + ", ".join(image.ref for image in images if image not in todo)
        )
    return todo, digests


def _with_dependents(
    images: Sequence[Image], stale: Sequence[Image], tags: dict[str, list[str]]
) -> list[Image]:
    """Return ``stale`` and every image built FROM one of them, in ``images``' order."""
    todo = {image.ref for image in stale}
    grown = True
    while grown:
        grown = False
        for image in images:
            built_on = set(freshness.all_bases(image))
            if image.ref not in todo and any(built_on & set(tags[ref]) for ref in todo):
                todo.add(image.ref)
                grown = True
    return [image for image in images if image.ref in todo]


def build_images(ws: Workspace, images: Sequence[Image], *, no_cache: bool = False) -> list[str]:
    """Build ``images`` (BuildKit reuses every layer that is not stale); return the tags."""
    if not images:
        return []
    _preflight(images)
    if stale := build_log(ws):  # a failed build's log must not outlive the next build
        stale.unlink(missing_ok=True)
    options = _options(ws, no_cache=no_cache)
    ws.require_engine()
    stack, engine = ws.stack, ws.engine
    caches = {
        image.ref: cache_plan(engine, stack.cache_ref, image, push=stack.cache_push)
        for image in images
    }
    if engine.buildx and stack.cache_ref and stack.cache_push and not engine.exports_cache:
        ws.say(
            f"buildx's {engine.driver!r} driver cannot export a build cache: sharing layers "
            f"as inline cache in the pushed images under {stack.cache_ref} instead"
        )
    tags = {image.ref: image.tags(options.sha, options.checkout) for image in images}
    # A build that must export or push a cache runs even when nothing changed.
    skippable = not (no_cache or ws.runner.dry) and not any(
        caches[image.ref].cache_to or caches[image.ref].push for image in images
    )
    todo, digests = _stale(ws, images, options, tags) if skippable else (list(images), {})
    for wave in build_waves(todo):
        if engine.buildx:
            _bake(ws, wave, options, caches)
        else:
            for image in wave:
                with explained([image], build_log(ws)):
                    ws.runner.run(
                        build_command(image, options, caches[image.ref]),
                        env=engine.build_env(),
                        tee=True,
                    )
    if skippable:
        freshness.remember(ws.runner, todo, tags, digests, options.checkout)
    built: list[str] = []
    for image in images:
        built += image.tags(options.sha)
        pushed = caches[image.ref].push
        if pushed:
            ws.runner.run(["docker", "tag", image.ref, pushed])
            ws.runner.run(["docker", "push", pushed])
    return built
