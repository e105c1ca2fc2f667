"""image-scan-secrets: look for secret values in everything an image carries.

Three places can leak a secret into an image: its history (a ``RUN`` line with
a build arg's value), its config (``ENV``, labels), and the files of its
layers. The scanner searches all three, from ``docker history --no-trunc``,
``docker image inspect`` and the archive ``docker save`` writes, for the exact
bytes of each secret. It reports where a value was found, never the value.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from shipyard.core.errors import ConfigError
from shipyard.core.process import Runner
from shipyard.core.workspace import Workspace, display_path
from shipyard.env import envfiles

CHUNK = 1 << 20


@dataclass(frozen=True)
class Finding:
    """A secret (by its label, never its value) found somewhere in an image."""

    image: str
    label: str
    where: str

    def __str__(self) -> str:
        """Return ``image: label found in where``."""
        return f"{self.image}: {self.label} found in {self.where}"


def _chunks(stream: IO[bytes], overlap: int) -> Iterator[bytes]:
    """Yield the stream in chunks that overlap, so a value split across two is still seen."""
    tail = b""
    while block := stream.read(CHUNK):
        yield tail + block
        tail = (tail + block)[-overlap:] if overlap else b""


def find_in_stream(stream: IO[bytes], needles: Mapping[str, bytes]) -> set[str]:
    """Return the labels of the needles that occur in ``stream``."""
    overlap = max((len(n) for n in needles.values()), default=1) - 1
    found: set[str] = set()
    for chunk in _chunks(stream, overlap):
        found |= {label for label, needle in needles.items() if needle in chunk}
    return found


def _scan_layer(layer: IO[bytes], needles: Mapping[str, bytes]) -> list[tuple[str, str]]:
    hits = []
    with tarfile.open(fileobj=layer, mode="r|*") as files:
        for member in files:
            for label, needle in needles.items():
                if needle in member.name.encode():
                    hits.append((label, f"the name of {member.name}"))
            if member.isfile():
                content = files.extractfile(member)
                if content is not None:
                    hits += [(label, member.name) for label in find_in_stream(content, needles)]
    return hits


def scan_archive(archive: Path, needles: Mapping[str, bytes]) -> list[tuple[str, str]]:
    """Search a ``docker save`` archive: config and manifests, and every file of every layer."""
    hits: list[tuple[str, str]] = []
    with tarfile.open(archive) as outer:
        for member in outer.getmembers():
            if not member.isfile():
                continue
            inner = outer.extractfile(member)
            if inner is None:
                continue
            try:
                layer_hits = _scan_layer(inner, needles)
            except tarfile.TarError:  # not a layer: the image config, a manifest, an index
                blob = outer.extractfile(member)
                if blob is not None:
                    hits += [(label, member.name) for label in find_in_stream(blob, needles)]
                continue
            hits += [(label, f"layer {member.name}: {path}") for label, path in layer_hits]
    return hits


def scan_image(runner: Runner, image: str, needles: Mapping[str, bytes]) -> list[Finding]:
    """Search ``image``'s history, config and layers for each needle."""
    findings: list[Finding] = []
    history = runner.run(
        ["docker", "history", "--no-trunc", "--format", "{{.CreatedBy}}", image],
        capture=True,
        query=True,
    ).stdout.encode()
    findings += [
        Finding(image, label, "docker history") for label, n in needles.items() if n in history
    ]
    config = runner.run(
        ["docker", "image", "inspect", image], capture=True, query=True
    ).stdout.encode()
    findings += [
        Finding(image, label, "docker inspect") for label, n in needles.items() if n in config
    ]
    with tempfile.TemporaryDirectory(prefix="shipyard-scan-") as tmp:
        archive = Path(tmp) / "image.tar"
        runner.run(["docker", "save", "--output", str(archive), image], capture=True, query=True)
        findings += [
            Finding(image, label, f"docker save: {where}")
            for label, where in scan_archive(archive, needles)
        ]
    return findings


def secret_needles(
    ws: Workspace, envs: Sequence[str], variables: Sequence[str]
) -> dict[str, bytes]:
    """Collect secret values to look for: @secret values of env files, build secrets, variables."""
    stack = ws.stack
    example = stack.env_dir / envfiles.EXAMPLE
    marked = envfiles.parse_env_file(example).secrets if example.is_file() else frozenset()
    needles: dict[str, bytes] = {}
    for env in envs:
        for path in envfiles.layer_files(stack, env):
            for key, entry in envfiles.read_env_file(path).items():
                if key in marked and entry.value and len(entry.value) >= MIN_NEEDLE:
                    needles[f"{key} from {display_path(path)}"] = entry.value.encode()
    for secret_id, source in stack.build_secrets.items():
        value = os.environ.get(source, "")
        if len(value) >= MIN_NEEDLE:
            needles[f"build secret {secret_id} (from ${source})"] = value.encode()
    for name in variables:
        value = os.environ.get(name, "")
        if len(value) < MIN_NEEDLE:
            raise ConfigError(
                f"${name} is unset or shorter than {MIN_NEEDLE} characters",
                tip=f"export {name} with the secret value to look for",
            )
        needles[f"${name}"] = value.encode()
    return needles


MIN_NEEDLE = 8


def scan_images(ws: Workspace, images: Sequence[str], needles: dict[str, bytes]) -> list[Finding]:
    """Search each image for each needle; a missing image is an error naming it."""
    findings: list[Finding] = []
    for image in images:
        exists = ws.runner.run(
            ["docker", "image", "inspect", image], capture=True, check=False, query=True
        )
        if not exists.ok:
            raise ConfigError(
                f"image {image} does not exist", tip="build it first: 'inv docker-build'"
            )
        findings += scan_image(ws.runner, image, needles)
    return findings
