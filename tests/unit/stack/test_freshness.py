"""A build is skipped only when nothing it reads changed and its tags still name what it made."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from shipyard.env.environment import Image
from shipyard.stack import freshness
from tests.unit.conftest import write, write_tree
from tests.unit.fakes import FakeRunner

DOCKERFILE = """\
ARG PYTHON_IMAGE=python:3.13-slim
FROM ghcr.io/astral-sh/uv:0.13.9 AS uv
FROM ${PYTHON_IMAGE} AS base
COPY --from=uv /uv /usr/local/bin/uv
COPY --from=tini:static /tini /tini
FROM base AS test
COPY . .
"""
LABELS = {"org.opencontainers.image.title": "demo"}
IDS = {"python:3.13-slim": "sha256:p", "ghcr.io/astral-sh/uv:0.13.9": "sha256:u"}


@pytest.fixture
def image(tmp_path: Path) -> Image:
    root = write_tree(
        tmp_path / "app",
        {"src/app.py": "x = 1\n", "uv.lock": "", "notes/big.log": "", ".dockerignore": "notes\n"},
    )
    return Image("demo:test", root, write(root / "Dockerfile", DOCKERFILE), "test")


def test_the_bases_are_the_images_stages_start_from_or_copy_from(image: Image) -> None:
    """Named FROMs, an ARG's default, COPY --from an image; never a stage of its own."""
    assert freshness.all_bases(image) == [
        "ghcr.io/astral-sh/uv:0.13.9",
        "python:3.13-slim",
        "tini:static",
    ]


@pytest.mark.parametrize(
    ("change", "same"),
    [
        (lambda root: (root / "src/app.py").write_text("x = 2\n"), False),  # the source
        (lambda root: (root / "uv.lock").write_text("changed"), False),  # the lock
        (lambda root: (root / "Dockerfile").write_text(DOCKERFILE + "ENV A=1\n"), False),
        (lambda root: (root / ".dockerignore").write_text("notes\n*.md\n"), False),
        (lambda root: (root / "notes/big.log").write_text("left out"), True),  # ignored
    ],
    ids=["source", "lock", "dockerfile", "ignore-file", "ignored-file"],
)
def test_every_file_the_build_reads_is_in_the_digest(
    image: Image, change: Callable[[Path], object], *, same: bool
) -> None:
    """What the context sends, the Dockerfile and the ignore file count; what it leaves out not."""
    before = freshness.inputs(image, LABELS, IDS)
    change(image.context)
    assert (freshness.inputs(image, LABELS, IDS) == before) is same


def test_a_new_base_image_labels_or_arguments_change_the_digest(image: Image) -> None:
    """A re-pulled base, another commit's label, another build argument: build again."""
    before = freshness.inputs(image, LABELS, IDS)
    assert freshness.inputs(image, LABELS, {**IDS, "python:3.13-slim": "sha256:q"}) != before
    assert freshness.inputs(image, {**LABELS, "rev": "abc"}, IDS) != before
    other = Image(image.ref, image.context, image.dockerfile, image.target, {"X": "1"})
    assert freshness.inputs(other, LABELS, IDS) != before


def test_a_build_is_fresh_only_while_its_tags_name_what_it_made(image: Image) -> None:
    """Remembered after a build; a moved or missing tag makes it stale again."""
    tags = {image.ref: ["demo:test", "demo:test-at-x"]}
    labels = {image.ref: LABELS}
    listing = "\n".join(
        [
            '["demo:test","demo:test-at-x"] [] sha256:built',
            '["python:3.13-slim"] [] sha256:p',
            '["ghcr.io/astral-sh/uv:0.13.9"] [] sha256:u',
        ]
    )
    runner = FakeRunner(lambda _argv: (0, listing))
    fresh, digests = freshness.unchanged(runner, [image], tags, labels, "x")
    assert fresh == []  # never built here
    freshness.remember(runner, [image], tags, digests, "x")
    assert freshness.unchanged(runner, [image], tags, labels, "x")[0] == [image]
    moved = FakeRunner(lambda _argv: (0, listing.replace("sha256:built", "sha256:other")))
    assert freshness.unchanged(moved, [image], tags, labels, "x")[0] == []


def test_a_name_without_a_tag_is_found_as_latest() -> None:
    """`FROM redis` is `redis:latest` in the engine's listing."""
    runner = FakeRunner(lambda _argv: (0, '["redis:latest"] [] sha256:r\n'))
    assert freshness.image_ids(runner, ["redis"]) == {"redis": "sha256:r"}
