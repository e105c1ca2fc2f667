"""What a build runs: ``docker build`` argv per image, or one ``docker buildx bake`` definition.

Each image is tagged with the name Compose runs (``image:``) and, in a git
checkout, ``<name>:<tag>-<short sha>``. The CA bundle (corporate proxies, and
these machines) reaches the build as the BuildKit secret ``ca``: Dockerfiles
mount it only in the steps that download, so it never lands in a layer. No
secret is ever a build argument.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shipyard.core.engine import Engine
from shipyard.core.errors import ConfigError
from shipyard.core.workspace import display_path
from shipyard.env.environment import Image, dockerfile_stages

CA_SECRET_ID = "ca"  # noqa: S105 - the secret's id, not a secret


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
    push: str | None = None  # inline cache: push this tag, which carries the cache metadata

    @property
    def inline(self) -> bool:
        """True when the layers are shared as inline cache in a pushed image."""
        return self.push is not None


def cache_image(ref: str, image: Image) -> str:
    """Return the registry tag that caches ``image``: ``<ref>:<name>-<tag>``."""
    name = image.repository.rsplit("/", 1)[-1]
    return f"{ref}:{re.sub(r'[^A-Za-z0-9_.-]', '-', f'{name}-{image.tag}')}"


def cache_plan(engine: Engine, ref: str | None, image: Image, *, push: bool) -> CachePlan:
    """Plan registry caching for ``image`` from ``cache-ref`` (None: no registry cache).

    A builder that can export a cache (buildx with e.g. the ``docker-container``
    driver) gets ``--cache-from``/``--cache-to type=registry,mode=max`` (every
    stage); ``cache-ref = "type=gha"`` (or any exporter spec) is passed as it
    is, a GitHub Actions cache getting a scope per image unless it names one.
    The classic builder and buildx's ``docker`` driver cannot export a cache:
    the image itself then carries inline cache metadata and is pushed as the
    cache image. A missing cache image only costs a warning.
    """
    if not ref:
        return CachePlan()
    if ref.startswith("type="):
        if not engine.exports_cache:
            raise ConfigError(
                f"cache-ref {ref!r} is a buildx cache exporter, which needs a buildx builder "
                f"with the docker-container driver (this one: {engine.driver or 'no buildx'})",
                tip="run 'docker buildx create --use --driver docker-container', "
                "or set cache-ref to a registry repository",
            )
        if ref.startswith("type=gha") and "scope=" not in ref:
            # One scope per image: in one scope, each image's export replaces the last's.
            ref = f"{ref},scope={re.sub(r'[^A-Za-z0-9_.-]+', '-', image.ref)}"
        return CachePlan((ref,), (f"{ref},mode=max",) if push else ())
    cached = cache_image(ref, image)
    if engine.exports_cache:
        to = (f"type=registry,ref={cached},mode=max",) if push else ()
        return CachePlan((f"type=registry,ref={cached}",), to)
    source = f"type=registry,ref={cached}" if engine.buildx else cached
    if not push:
        return CachePlan((source,))
    if engine.buildx:
        return CachePlan((source,), ("type=inline",), push=cached)
    return CachePlan((source,), (), {"BUILDKIT_INLINE_CACHE": "1"}, push=cached)


def labels(image: Image, project: str, sha: str | None) -> dict[str, str]:
    """Return the labels every build carries (``gc`` finds a project's images by title)."""
    found = {"org.opencontainers.image.title": project}
    if image.target:
        found["dev.shipyard.target"] = image.target
    if sha:
        found["org.opencontainers.image.revision"] = sha
    return found


@dataclass(frozen=True)
class BuildOptions:
    """What every image of one build shares."""

    project: str
    sha: str | None = None
    no_cache: bool = False
    ca_bundle: Path | None = None
    secrets: tuple[str, ...] = ()
    checkout: str | None = None  # each image is also tagged for this checkout (test runs)

    def secret_specs(self, image: Image) -> list[str]:
        """Return the ``--secret`` values of ``image``: the CA bundle, settings, Compose's."""
        ca = [f"id={CA_SECRET_ID},src={display_path(self.ca_bundle)}"] if self.ca_bundle else []
        return [*ca, *self.secrets, *image.secrets]


def build_command(image: Image, options: BuildOptions, cache: CachePlan | None = None) -> list[str]:
    """Return the classic ``docker build`` argv for ``image`` (run with DOCKER_BUILDKIT=1)."""
    argv = ["docker", "build", "--file", display_path(image.dockerfile)]
    if image.target:
        argv += ["--target", image.target]
    for tag in image.tags(options.sha, options.checkout):
        argv += ["--tag", tag]
    for name, value in labels(image, options.project, options.sha).items():
        argv += ["--label", f"{name}={value}"]
    for spec in options.secret_specs(image):
        argv += ["--secret", spec]
    plan = cache or CachePlan()
    for name, value in sorted({**image.args, **plan.build_args}.items()):
        argv += ["--build-arg", f"{name}={value}"]
    for ref in plan.cache_from:
        argv += ["--cache-from", ref]
    if options.no_cache:
        argv.append("--no-cache")
    argv.append(display_path(image.context))
    return argv


def bake_target_name(image: Image) -> str:
    """Return the bake target of ``image`` (bake allows only ``[A-Za-z0-9_-]``)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", image.ref)


def _absolute_src(spec: str) -> str:
    """Return a ``--secret`` spec with its ``src=`` file as an absolute path."""
    parts = [
        f"src={Path(part.removeprefix('src=')).resolve()}" if part.startswith("src=") else part
        for part in spec.split(",")
    ]
    return ",".join(parts)


def bake_definition(
    images: Sequence[Image], options: BuildOptions, caches: Mapping[str, CachePlan]
) -> dict[str, Any]:
    """Return a ``docker buildx bake`` JSON definition building ``images`` in one go.

    It is written from Compose's merged model, not handed the compose files:
    bake would read those without ``--env-file``, and build an image once per
    service that runs it.
    """
    targets: dict[str, Any] = {}
    for image in images:
        plan = caches.get(image.ref, CachePlan())
        spec: dict[str, Any] = {
            "context": str(image.context),
            "dockerfile": str(image.dockerfile),
            "tags": image.tags(options.sha, options.checkout),
            "labels": labels(image, options.project, options.sha),
        }
        if image.target:
            spec["target"] = image.target
        args = {**image.args, **plan.build_args}
        optional = {
            "args": dict(sorted(args.items())),
            # Absolute: bake runs from the definition's folder.
            "secret": [_absolute_src(spec) for spec in options.secret_specs(image)],
            "cache-from": list(plan.cache_from),
            "cache-to": list(plan.cache_to),
        }
        spec |= {key: value for key, value in optional.items() if value}
        if options.no_cache:
            spec["no-cache"] = True
        targets[bake_target_name(image)] = spec
    return {"group": {"default": {"targets": list(targets)}}, "target": targets}


def bake_command(definition: Path) -> list[str]:
    """Return the bake argv for a definition file; ``--load`` puts images in the engine."""
    return ["docker", "buildx", "bake", "--file", display_path(definition), "--load"]


def build_waves(images: Sequence[Image]) -> list[list[Image]]:
    """Order ``images`` in waves: an image built ``FROM`` another of the stack comes after it."""
    refs = {image.ref: image for image in images}
    needs = {
        image.ref: {base for base, _ in dockerfile_stages(image.dockerfile) if base in refs}
        - {image.ref}
        for image in images
    }
    waves: list[list[Image]] = []
    done: set[str] = set()
    while len(done) < len(images):
        ready = [image for image in images if image.ref not in done and needs[image.ref] <= done]
        if not ready:
            stuck = sorted(set(refs) - done)
            raise ConfigError(
                f"the images {', '.join(stuck)} are each built FROM another: a cycle",
                tip="build one of them from a base image instead",
            )
        waves.append(ready)
        done |= {image.ref for image in ready}
    return waves


_BIND = re.compile(r"--mount=type=bind,(\S+)")
NO_DOCKERFILE = "fix build.dockerfile in compose/, or write it ('shipyard init' generates one)"
LOCK_FIXES = {
    "uv.lock": "run 'uv lock' and commit uv.lock",
    "poetry.lock": "run 'poetry lock' and commit poetry.lock",
}


def instructions(text: str) -> list[str]:
    """Return the Dockerfile's instructions, continuation lines joined, comments dropped."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    return [i.strip() for i in re.sub(r"\\\s*\n", " ", "\n".join(lines)).splitlines() if i.strip()]


def context_sources(dockerfile_text: str) -> list[str]:
    """Return the plain files a Dockerfile takes from its context (COPY/ADD, bind mounts).

    Sources from another stage or image (``--from=``), globs, variables and
    the whole context (``.``) are left out: only names that must exist as written.
    """
    found: list[str] = []
    for instruction in instructions(dockerfile_text):
        for spec in _BIND.findall(instruction):
            fields = dict(f.split("=", 1) for f in spec.split(",") if "=" in f)
            if "from" not in fields and "source" in fields:
                found.append(fields["source"])
        words = instruction.split()
        if words[0].upper() in {"COPY", "ADD"} and not words[1].startswith("["):
            flags = [w for w in words[1:] if w.startswith("--")]
            if any(f.startswith("--from=") for f in flags):
                continue
            found += [w for w in words[1:] if not w.startswith("--")][:-1]
    return [
        s.rstrip("/")
        for s in dict.fromkeys(found)
        if s not in {".", "./"} and not re.search(r"[*?\[$]", s)
    ]


def preflight(image: Image) -> list[tuple[str, str]]:
    """Return (problem, fix) for what would make ``image``'s build fail before it starts."""
    if not image.context.is_dir():
        return [
            (f"the build context {display_path(image.context)} does not exist", "fix build.context")
        ]
    if not image.dockerfile.is_file():
        return [
            (
                f"{display_path(image.dockerfile)} does not exist",
                NO_DOCKERFILE,
            )
        ]
    missing = [
        name
        for name in context_sources(image.dockerfile.read_text(encoding="utf-8"))
        if not (image.context / name).exists()
    ]
    return [
        (
            f"{display_path(image.dockerfile)} needs {name}, not in {display_path(image.context)}/",
            LOCK_FIXES.get(Path(name).name, f"create {name}, or stop using it in the Dockerfile"),
        )
        for name in missing
    ]
