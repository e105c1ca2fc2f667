"""Where a test image keeps the project's source, and what else its build reads.

The kept test stack (``inv test``) runs the suite in a long-lived container
of the test image with the source folders bind-mounted over the image's
copies, so an edit needs no rebuild. Which folders, and where: those the
Dockerfile's stages up to the test target copy from the build context
(``COPY src ./src``, ``COPY tests ./tests``, ``COPY . .``), at the path each
lands on. A folder whose content lands on its stage's working directory or
on ``/`` (``COPY . .``, ``COPY src /app/``) is mounted one subfolder at a
time, so what the build made there (a venv in ``/app/.venv``) stays visible.
Files (``pyproject.toml``, the lock, ``manage.py``) are not mounted: an
editor that saves by renaming would leave the container with the old one.
They, the Dockerfile and its ignore file are the build's inputs instead:
when one changes, the image is rebuilt. What the build itself wrote into a
mounted folder (hatch-vcs's ``_version.py``, an egg-info) would be hidden by
the mount: right after a build, such files are copied to the host, as an
editable install there would write them.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from shipyard.core.cache import digest, stat_part
from shipyard.env.environment import Image
from shipyard.stack import dockerignore
from shipyard.stack.images import instructions

_FROM = re.compile(r"^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", re.IGNORECASE)


@dataclass(frozen=True)
class Mount:
    """A folder of the build context, mounted read-only where the test image has its copy."""

    source: Path
    target: str

    def volume(self) -> str:
        """Return the ``--volume`` value."""
        return f"{self.source}:{self.target}:ro"


def _stages(text: str) -> list[tuple[str, str | None, list[str]]]:
    """Return each stage as (base, name, its instructions after FROM)."""
    stages: list[tuple[str, str | None, list[str]]] = []
    for instruction in instructions(text):
        found = _FROM.match(instruction)
        if found:
            stages.append((found[1], found[2], []))
        elif stages:
            stages[-1][2].append(instruction)
    return stages


def _chain(text: str, target: str | None) -> list[list[str]]:
    """Return the instructions of ``target``'s stage and of the stages it is built FROM."""
    stages = _stages(text)
    names = {name.lower(): i for i, (_, name, _) in enumerate(stages) if name}
    index: int | None = names.get((target or "").lower(), len(stages) - 1)
    chain: list[list[str]] = []
    while index is not None and 0 <= index < len(stages):
        base, _, instructions = stages[index]
        chain.insert(0, instructions)
        index = names.get(base.lower())
    return chain


def _copies(instruction: str) -> tuple[list[str], str] | None:
    """Return (sources, destination) of a COPY/ADD from the context; None for anything else."""
    words = instruction.split(maxsplit=1)
    if len(words) < 2 or words[0].upper() not in {"COPY", "ADD"}:  # noqa: PLR2004
        return None
    rest = words[1].split()
    flags = [w for w in rest if w.startswith("--")]
    if any(f.startswith("--from=") for f in flags):
        return None
    args = [w for w in rest if not w.startswith("--")]
    if args and args[0].startswith("["):
        try:
            args = [str(a) for a in json.loads(" ".join(args))]
        except ValueError:
            return None
    if len(args) < 2 or any("$" in a for a in args):  # noqa: PLR2004
        return None
    return args[:-1], args[-1]


def _folders(folder: Path, prefix: str, patterns: list[dockerignore.Pattern]) -> list[Path]:
    """Return the subfolders of ``folder`` a build sends (``prefix``: its path in the context)."""
    return [
        child
        for child in sorted(folder.iterdir())
        if child.is_dir() and not dockerignore.excluded(prefix + child.name, patterns)
    ]


def source_mounts(image: Image) -> list[Mount]:
    """Return the folders of ``image``'s context its test stages copy, and where they land."""
    context = image.context.resolve()
    patterns = dockerignore.read(context, image.dockerfile)
    found: dict[str, Path] = {}
    workdir = "/"
    for stage in _chain(image.dockerfile.read_text(encoding="utf-8"), image.target):
        for instruction in stage:
            word = instruction.split(maxsplit=1)
            if word[0].upper() == "WORKDIR" and len(word) == 2 and "$" not in word[1]:  # noqa: PLR2004
                workdir = posixpath.normpath(posixpath.join(workdir, word[1].strip()))
            copied = _copies(instruction)
            for source in copied[0] if copied else []:
                land = posixpath.normpath(posixpath.join(workdir, copied[1] if copied else ""))
                rel = posixpath.normpath(source).lstrip("/")
                folder = context / rel if rel != "." else context
                skipped = any(c in rel for c in "*?[") or not folder.is_dir()
                if skipped or (rel != "." and dockerignore.excluded(rel, patterns)):
                    continue
                if land in {workdir, "/"}:  # onto the working folder: each subfolder alone
                    prefix = "" if rel == "." else rel + "/"
                    for child in _folders(folder, prefix, patterns):
                        found[posixpath.join(land, child.name)] = child
                else:
                    found[land] = folder
    return [Mount(source, target) for target, source in sorted(found.items())]


def build_inputs(images: Sequence[Image], mounts: Sequence[Mount]) -> str:
    """Return the digest of what the images' builds read, less the mounted folders.

    The Dockerfiles, their ignore files and every file the contexts send
    outside the mounted folders, by size and modification time.
    """
    mounted = {mount.source for mount in mounts}
    parts: list[str] = []
    for image in images:
        context = image.context.resolve()
        parts += [
            image.ref,
            stat_part(image.dockerfile),
            stat_part(dockerignore.ignore_file(context, image.dockerfile)),
        ]
        parts += [
            stat_part(path)
            for path in dockerignore.sent_files(context, image.dockerfile, skip=mounted)
        ]
    return digest(parts)


def build_outputs(listing: str, mounts: Sequence[Mount]) -> list[tuple[str, Path]]:
    """Return (path in the image, path on the host) of files the mounts would hide.

    ``listing``: the image's files under the mount targets, one absolute path a
    line (``find``). Right after a build the image holds the context as it is,
    so a file the host lacks is one the build made. Bytecode is left out.
    """
    found = []
    for line in listing.splitlines():
        mount = next((m for m in mounts if line.startswith(m.target.rstrip("/") + "/")), None)
        if mount is None or "/__pycache__/" in line or line.endswith(".pyc"):
            continue
        host = mount.source.joinpath(*line[len(mount.target.rstrip("/")) + 1 :].split("/"))
        if not host.exists():
            found.append((line, host))
    return found
