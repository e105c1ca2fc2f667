"""shipyard's generated images against the projects' own Dockerfiles, side by side in one run.

Usage: .venv/bin/python bench/own_images.py NAME=CHECKOUT [NAME=CHECKOUT ...] [--runs N]

NAME is one of PROJECTS below (its Dockerfile, the module a source-only
change touches, and what this machine needs changed in the project's own
Dockerfile); CHECKOUT a folder holding the project at the commit recorded in
docs/benchmarks.md (``git archive`` of a clone). Nothing of the projects is
in this repository.

For each project, on a private copy: ``shipyard init --no-verify``, then

- the project's own Dockerfile, changed only as this machine needs: base
  images that exist here (the nearest ``python:3.X-slim`` stand-in, the uv
  image here for any uv), the
  proxy's CA bundle mounted as a build secret in every RUN step (with
  ``PIP_CERT``/``REQUESTS_CA_BUNDLE`` pointing at it), nothing Engine 20.10
  rejects (``HEALTHCHECK --start-interval``), no ``pip install --upgrade pip``
  (the stand-ins' pip is Debian's), and the project's own fixes
  listed in PROJECTS (a Debian package renamed since it was written);
- shipyard's production image (the bake ``inv docker-build --target
  production`` writes), and the floor: a one-file COPY onto it.

Cold builds start from an empty build cache (``docker builder prune
--all``); a source-only rebuild appends a comment to one module; sizes are
the images' own. Each rebuild figure is the median of N runs (default 3).
Removes every image and the build cache it made.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.speed import CA, edit, median, seconds, sh
from tests.integration.realstack import BIN, docker

CA_MOUNT = "--mount=type=secret,id=ca,target=/etc/ssl/certs/ca-certificates.crt"
UV = "0.13.9"  # the uv image this machine has
CERT_ENV = (
    "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt "
    "REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt UV_SYSTEM_CERTS=1"
)


@dataclass(frozen=True)
class Project:
    """What the bench needs to know of one project."""

    dockerfile: str  # the project's own, relative to the checkout (its context: the root)
    module: str  # a source file a source-only change edits
    fixes: tuple[tuple[str, str], ...] = field(default=())  # (old, new) in its Dockerfile
    python: str = ""  # the stand-in for a FROM python with no version (default: 3.13)
    settings: str = ""  # shipyard.toml's [init] lines this machine needs (a Python it has)


PROJECTS = {
    # Its pins (2023) have wheels up to Python 3.11 (multidict 6.0.4): `python:slim` then.
    "microblog": Project("Dockerfile", "app/main/routes.py", python="3.11"),
    "fastapi-realworld": Project(
        "Dockerfile",
        "app/main.py",
        (
            (
                "install -y --no-install-recommends netcat ",
                "install -y --no-install-recommends netcat-openbsd ",
            ),
            # poetry 1.1 takes the newest poetry-core, which dropped poetry.core.toml.
            ("pip install poetry==1.1 ", "pip install poetry==1.1.15 poetry-core==1.0.8 "),
        ),
    ),
    # Its image is python:3.14; this machine's newest is 3.13, for theirs and ours alike.
    "healthchecks": Project("docker/Dockerfile", "hc/api/views.py", settings='python = "3.13"'),
    "bakerydemo": Project("Dockerfile", "bakerydemo/base/blocks.py"),
}


def stand_in(match: re.Match[str], default: str = "3.13") -> str:
    """Return the local python image nearest the one a FROM names."""
    version = re.match(r"(\d+)\.(\d+)", match[2] or "")
    minor = f"3.{min(int(version[2]), 13)}" if version else default
    flavour = "-slim-trixie" if "trixie" in match[0] else "-slim"
    return f"{match[1]}python:{minor}{flavour}"


def runnable_here(text: str, project: Project) -> str:
    """Return the project's Dockerfile changed only as this machine needs."""
    for old, new in project.fixes:
        if old not in text:
            sys.exit(f"the fix {old!r} no longer applies: update PROJECTS")
        text = text.replace(old, new)
    text = re.sub(
        r"(FROM\s+(?:--\S+\s+)*)python:(\S*)",
        partial(stand_in, default=project.python or "3.13"),
        text,
        flags=re.IGNORECASE,
    )
    text = re.sub(r"ARG UV_VERSION=\S+", f"ARG UV_VERSION={UV}", text)
    text = re.sub(r"ghcr\.io/astral-sh/uv:[\w.-]+", f"ghcr.io/astral-sh/uv:{UV}", text)
    text = re.sub(r"--start-interval=\S+\s*", "", text)
    # The stand-in images' pip is Debian's, which pip cannot uninstall to upgrade.
    text = re.sub(r"pip install (?:--upgrade|-U) pip\s*&&\s*", "", text)
    text = re.sub(r"^(FROM\s.*)$", rf"\1\n{CERT_ENV}", text, flags=re.MULTILINE | re.IGNORECASE)
    return re.sub(r"^RUN\s", f"RUN {CA_MOUNT} ", text, flags=re.MULTILINE)


def size(image: str) -> float:
    """Return an image's size in MB."""
    return int(docker("image", "inspect", "--format", "{{.Size}}", image).stdout) / 1e6


def bake_definition(root: Path, work: Path) -> tuple[Path, str]:
    """Write the production bake `inv docker-build` runs; return it and the image it makes."""
    tasks = ["-c", "shipyard_tasks"] if (root / "shipyard_tasks.py").is_file() else []
    out = sh(str(BIN / "inv"), *tasks, "--dry", "docker-build", "--target", "production",
             cwd=root, stderr=True)  # fmt: skip
    text = out[out.index("bake definition:") + len("bake definition:") :]
    definition = json.loads(text[: text.rindex("}") + 1])
    path = work / f"{root.name}.bake.json"
    path.write_text(json.dumps(definition))
    target = next(iter(definition["target"].values()))
    return path, target["tags"][0]


def measure(name: str, checkout: Path, work: Path) -> dict[str, float]:
    """Build the project's image and shipyard's side by side; return the figures."""
    project = PROJECTS[name]
    root = work / f"bench-{name}-{uuid.uuid4().hex[:6]}"
    shutil.copytree(checkout, root)
    if project.settings:
        (root / "shipyard.toml").write_text(f"[init]\n{project.settings}\n")
    sh(str(BIN / "shipyard"), "init", "--no-verify", str(root))
    theirs = work / f"{root.name}.Dockerfile"
    theirs.write_text(runnable_here((root / project.dockerfile).read_text(), project))
    their_image = f"{root.name}-theirs:latest"
    their_build = (
        "docker", "buildx", "build", "--load", "--tag", their_image, "--file", str(theirs),
        "--secret", f"id=ca,src={CA}", str(root),
    )  # fmt: skip
    bake, ours = bake_definition(root, work)
    our_build = ("docker", "buildx", "bake", "--file", str(bake), "--load")
    module = root / project.module
    floor_dir = work / f"{root.name}-floor"
    floor_dir.mkdir()
    figures: dict[str, float] = {}
    try:
        for who, build in (("theirs", their_build), ("ours", our_build)):
            docker("builder", "prune", "--all", "--force")
            figures[f"{who}_cold"] = seconds(partial(sh, *build))

            def edited(build: tuple[str, ...] = build) -> None:
                edit(module)
                sh(*build)

            figures[f"{who}_source"] = median(edited)
        (floor_dir / "Dockerfile").write_text(f"FROM {ours}\nCOPY edit.txt /tmp/edit.txt\n")
        floor = ("docker", "buildx", "build", "--load", "-t", f"{root.name}-floor",
                 str(floor_dir))  # fmt: skip

        def floor_once() -> None:
            (floor_dir / "edit.txt").write_text(uuid.uuid4().hex)
            sh(*floor)

        figures["floor"] = median(floor_once)
        figures["theirs_size"] = size(their_image)
        figures["ours_size"] = size(ours)
    finally:
        listed = docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
        mine = [ref for ref in listed if ref.startswith(root.name)]
        if mine:
            docker("rmi", "--force", *mine, check=False)
        docker("builder", "prune", "--all", "--force")
    return figures


def main() -> None:
    """Measure each NAME=CHECKOUT given; print the table."""
    pairs = [arg.split("=", 1) for arg in sys.argv[1:] if "=" in arg]
    unknown = [name for name, _ in pairs if name not in PROJECTS]
    if not pairs or unknown:
        sys.exit(f"usage: own_images.py NAME=CHECKOUT ... (NAME: {', '.join(PROJECTS)})")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, checkout in pairs:
            try:
                f = measure(name, Path(checkout).resolve(), Path(tmp))
            except (SystemExit, subprocess.CalledProcessError) as error:  # the next one still runs
                rows.append(f"| {name} | failed: {str(error)[-300:]} | | |")
                continue
            rows.append(
                f"| {name} | {f['theirs_cold']:.1f} s / {f['ours_cold']:.1f} s "
                f"| {f['theirs_source']:.2f} s / {f['ours_source']:.2f} s "
                f"(**{f['ours_source'] / f['theirs_source']:.2f}x**; floor {f['floor']:.2f} s, "
                f"{f['ours_source'] / f['floor']:.2f}x) "
                f"| {f['theirs_size']:.0f} MB / {f['ours_size']:.0f} MB "
                f"(**{f['ours_size'] / f['theirs_size']:.2f}x**) |"
            )
    print("| project | cold build: theirs / shipyard's | source-only rebuild: theirs / "
          "shipyard's | production image: theirs / shipyard's |")  # fmt: skip
    print("|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
