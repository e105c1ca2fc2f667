"""Which images a build can leave alone: nothing they are built from changed since.

BuildKit answers "is anything stale?" too, but a no-op bake still costs
0.2-0.4 s per command (its client, the context transfer, the export); that
is most of a no-op ``inv docker-build`` and of a warm docker-test's overhead.
After each successful build shipyard keeps, per image, the digest of its
inputs and the ID each of its tags got. The next build of that image is
skipped when the digest is the same and every tag still names that ID.

The inputs: the Dockerfile and the ignore file the build reads, every file
the context sends (its content; a file over 1 MB by size and modification
time), the target, the build arguments, the labels, and the IDs of the base
images its stages start FROM. Not in it: the content of build secrets (a
new CA bundle or index password builds the same image). ``--no-cache`` and
a build that pushes a cache always build.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from shipyard.core import cache
from shipyard.core.process import Runner
from shipyard.env.environment import Image, dockerfile_stages
from shipyard.stack import dockerignore

BIG = 1 << 20  # bytes: a larger file counts by size and modification time


def _file(path: Path) -> str:
    found = path.stat()
    if found.st_size > BIG:
        return f"{found.st_size}:{found.st_mtime_ns}"
    return hashlib.sha256(path.read_bytes()).hexdigest()


def bases(image: Image) -> list[str]:
    """Return the images ``image``'s stages start FROM or copy from (not its own stages, ARGs)."""
    stages = dockerfile_stages(image.dockerfile)
    names = {name.lower() for _, name in stages if name}
    text = image.dockerfile.read_text(encoding="utf-8")
    copied = re.findall(r"--from=(\S+)", text)
    return sorted(
        {
            ref
            for ref in [*(b for b, _ in stages), *copied]
            if ref.lower() not in names
            and ref != "scratch"
            and "$" not in ref
            and not ref.isdigit()
        }
    )


def _arg_bases(image: Image) -> list[str]:
    """Return the base images a FROM takes from an ARG's default (``FROM ${PYTHON_IMAGE}``)."""
    text = image.dockerfile.read_text(encoding="utf-8")
    defaults = dict(re.findall(r"^\s*ARG\s+(\w+)=(\S+)", text, re.MULTILINE | re.IGNORECASE))
    found = []
    for base, _ in dockerfile_stages(image.dockerfile):
        named = re.fullmatch(r"\$\{?(\w+)\}?", base)
        if named:
            found.append(image.args.get(named[1]) or defaults.get(named[1], ""))
    return [ref for ref in found if ref]


def inputs(image: Image, labels: Mapping[str, str], ids: Mapping[str, str]) -> str:
    """Return the digest of everything ``image``'s build reads (``ids``: base image -> ID)."""
    context = image.context.resolve()
    parts = [
        f"target={image.target}",
        json.dumps(dict(sorted(image.args.items()))),
        json.dumps(dict(sorted(labels.items()))),
        f"dockerfile={_file(image.dockerfile)}",
        cache.file_part(dockerignore.ignore_file(context, image.dockerfile)),
        *(f"{ref}={ids.get(ref, 'missing')}" for ref in all_bases(image)),
    ]
    parts += [
        f"{path.relative_to(context).as_posix()}={_file(path)}"
        for path in dockerignore.sent_files(context, image.dockerfile)
    ]
    return cache.digest(parts)


def all_bases(image: Image) -> list[str]:
    """Return every base image of ``image``, named or through an ARG's default."""
    return sorted({*bases(image), *_arg_bases(image)})


def _tagged(ref: str) -> str:
    """Return ``ref`` as the engine lists it: a name without a tag is ``name:latest``."""
    return ref if "@" in ref or ":" in ref.rsplit("/", 1)[-1] else f"{ref}:latest"


def image_ids(runner: Runner, refs: Sequence[str]) -> dict[str, str]:
    """Return the ID of each of ``refs`` the engine has (one query for all)."""
    if not refs:
        return {}
    found = runner.run(
        [
            "docker",
            "image",
            "inspect",
            "--format",
            "{{json .RepoTags}} {{json .RepoDigests}} {{.Id}}",
            *refs,
        ],
        capture=True,
        check=False,
        query=True,
    )
    ids: dict[str, str] = {}
    for line in found.stdout.splitlines():
        tags, digests, image_id = [*line.split(" "), "", ""][:3]
        listed = {*json.loads(tags or "[]"), *json.loads(digests or "[]")}
        for ref in refs:
            if _tagged(ref) in listed:
                ids.setdefault(ref, image_id)
    return ids


def _name(image: Image, checkout: str | None) -> str:
    return "build-" + cache.digest([image.ref, str(checkout), str(image.context)])[:16]


def unchanged(
    runner: Runner,
    images: Sequence[Image],
    tags: Mapping[str, list[str]],
    labels: Mapping[str, Mapping[str, str]],
    checkout: str | None,
) -> tuple[list[Image], dict[str, str]]:
    """Return the images whose inputs and tags are as their last build left them, and digests.

    ``tags`` and ``labels`` (by image name) are what this build would give
    them. The digests (by image name) are for :func:`remember` after the build.
    """
    refs = sorted({*(t for image in images for t in tags[image.ref]), *_bases_of(images)})
    ids = image_ids(runner, refs)
    digests = {image.ref: inputs(image, labels[image.ref], ids) for image in images}
    fresh = []
    for image in images:
        kept = cache.read(_name(image, checkout), digests[image.ref])
        if kept is not None and json.loads(kept) == {t: ids.get(t) for t in tags[image.ref]}:
            fresh.append(image)
    return fresh, digests


def _bases_of(images: Sequence[Image]) -> set[str]:
    return {ref for image in images for ref in all_bases(image)}


def remember(
    runner: Runner,
    images: Sequence[Image],
    tags: Mapping[str, list[str]],
    digests: Mapping[str, str],
    checkout: str | None,
) -> None:
    """Keep, for each built image, its inputs' digest and the IDs its tags got."""
    ids = image_ids(runner, sorted({t for image in images for t in tags[image.ref]}))
    for image in images:
        got = {t: ids.get(t) for t in tags[image.ref]}
        if all(got.values()):
            cache.write(_name(image, checkout), digests[image.ref], json.dumps(got))
