"""Helpers for the real-engine tests: a private copy of the reference stack and its cleanup.

Every test here drives the real Docker engine through the real ``inv`` and
``nox`` commands. The copy gets its own project and image names, so nothing
here can touch a developer's own stacks or images, and teardown removes by
those names whatever a test left, even when it failed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COPIED = [
    "app",
    "compose",
    "docker",
    "env/.env.example",
    "env/.env.ci",
    "env/.env.prod.example",
    "pyproject.toml",
    "tasks.py",
    "noxfile.py",
]
TIMEOUT = 600


def docker(
    *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run a docker command, captured."""
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=check, timeout=timeout
    )


def as_a_terminal_job() -> None:
    """Give a child Ctrl-C's default, as a terminal's foreground job has it.

    A test that interrupts a command must not depend on how the suite was
    started: a shell runs a background job (``cmd &``) with SIGINT ignored,
    every child inherits that, and Ctrl-C then reaches nothing.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def free_port() -> int:
    """Return a TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    """A private copy of the reference stack."""

    root: Path
    name: str  # project and image name, unique per test session
    api_port: int

    def run(
        self, *argv: str, env: dict[str, str] | None = None, cwd: Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command of the project venv (`inv`, `nox`) in the copy (or ``cwd``), captured."""
        full_env = {**os.environ, **(env or {}), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
        return subprocess.run(
            [str(BIN / argv[0]), *argv[1:]],
            cwd=cwd or self.root,
            stdin=subprocess.DEVNULL,  # no terminal: what needs a yes must say so
            capture_output=True,
            text=True,
            env=full_env,
            timeout=TIMEOUT,
            check=False,
        )

    def leftovers(self, project_prefix: str | None = None) -> dict[str, list[str]]:
        """Return containers, networks and volumes whose compose project starts with the prefix."""
        prefix = project_prefix or self.name
        found: dict[str, list[str]] = {}
        for kind, listing in (
            (
                "containers",
                ["ps", "--all", "--format", '{{.Names}}\t{{.Label "com.docker.compose.project"}}'],
            ),
            (
                "networks",
                ["network", "ls", "--format", '{{.Name}}\t{{.Label "com.docker.compose.project"}}'],
            ),
            (
                "volumes",
                ["volume", "ls", "--format", '{{.Name}}\t{{.Label "com.docker.compose.project"}}'],
            ),
        ):
            rows = [line.split("\t") for line in docker(*listing).stdout.splitlines()]
            found[kind] = sorted(name for name, project in rows if project.startswith(prefix))
        return found

    def compose_ps(self, env: str) -> list[dict[str, object]]:
        """Return `docker compose ps` rows of the copy's ``env`` stack."""
        out = subprocess.run(
            [
                "docker",
                "compose",
                "--project-name",
                f"{self.name}-{env}",
                "ps",
                "--all",
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]


def remove_everything(name: str) -> None:
    """Remove every container, network, volume and image of the copy named ``name``."""
    containers = [
        line.split("\t")[0]
        for line in docker(
            "ps", "--all", "--format", '{{.ID}}\t{{.Label "com.docker.compose.project"}}'
        ).stdout.splitlines()
        if line.split("\t")[1].startswith(name)
    ]
    if containers:
        docker("rm", "--force", "--volumes", *containers, check=False)
    for kind in ("network", "volume"):
        for line in docker(
            kind, "ls", "--format", '{{.Name}}\t{{.Label "com.docker.compose.project"}}'
        ).stdout.splitlines():
            item, project = line.split("\t")
            if project.startswith(name):
                docker(kind, "rm", item, check=False)
    # Every repository named after the copy: <name>, <name>-api, a registry's .../<name>-cache.
    # An image pulled by digest (a promote) has a repository and no tag: removed by ID.
    images = [
        image_id if ref.endswith(":<none>") else ref
        for ref, image_id in (
            line.split()
            for line in docker(
                "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"
            ).stdout.splitlines()
        )
        if ref.rpartition(":")[0].rsplit("/", 1)[-1].startswith(name)
    ]
    # Rebuilding a tag leaves the old image untagged; our builds label theirs.
    images += docker(
        "images",
        "--quiet",
        "--filter",
        "dangling=true",
        "--filter",
        f"label=org.opencontainers.image.title={name}",
    ).stdout.split()
    if images:
        docker("rmi", "--force", *images, check=False)


def copy_stack(parent: Path) -> Stack:
    """Copy the reference stack into ``parent`` under a unique project and image name.

    The dev ports are free ports, so the copy never collides with a running stack.
    """
    name = f"sy-it-{uuid.uuid4().hex[:6]}"
    root = parent / name
    for item in COPIED:
        source, target = REPO / item, root / item
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(
                source, target, ignore=shutil.ignore_patterns(".venv", "__pycache__", "results")
            )
        else:
            shutil.copy2(source, target)
    for path in [root / "pyproject.toml", *sorted((root / "compose").glob("*.yml"))]:
        path.write_text(path.read_text().replace("shipyard-demo", name))
    api_port = free_port()
    env_dev = (root / "env/.env.example").read_text()
    ports = (("API_PORT", api_port), ("POSTGRES_PORT", free_port()), ("REDIS_PORT", free_port()))
    for key, port in ports:
        env_dev = env_dev.replace(f"{key}=", f"{key}={port}\n#{key}=")
    (root / "env/.env.dev").write_text(env_dev)
    return Stack(root, name, api_port)


@contextmanager
def committed_copy(parent: Path) -> Iterator[Stack]:
    """Copy the reference stack into a git repository of its own, with one commit."""
    stack = copy_stack(parent)
    git = ["git", "-C", str(stack.root), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one commit"], check=True)
    try:
        yield stack
    finally:
        remove_everything(stack.name)


def head(stack: Stack) -> str:
    """Return the short commit of a committed copy (the tag `inv push` gives)."""
    return subprocess.run(
        ["git", "-C", str(stack.root), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


REGISTRY_CONFIG = (
    "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: /var/lib/registry\n"
    "http:\n  addr: 0.0.0.0:5000\n"
)


@contextmanager
def local_registry(folder: Path) -> Iterator[str]:
    """Run a real registry:2 on a free 127.0.0.1 port, without auth; yield host:port."""
    config = folder / "registry.yml"
    config.write_text(REGISTRY_CONFIG)
    port = free_port()
    cid = docker(
        "run",
        "--detach",
        "--label",
        "dev.shipyard.test=registry",
        "--publish",
        f"127.0.0.1:{port}:5000",
        "--volume",
        f"{config}:/etc/docker/registry/config.yml:ro",
        "registry:2",
    ).stdout.strip()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        docker("rm", "--force", "--volumes", cid, check=False)


EXAMPLES = REPO / "examples"


@dataclass
class Example:
    """A private copy of one of examples/, renamed so its images and projects are its own."""

    root: Path
    name: str  # replaces the example's own name in project and image names

    def run(
        self, *argv: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `inv`/`nox` of shipyard's venv in the copy, captured."""
        return Stack(self.root, self.name, 0).run(*argv, env=env)

    def images(self) -> set[str]:
        """Return the copy's image names (repository:tag), without the per-commit tags."""
        names = docker("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
        return {
            name
            for name in names
            if name.startswith(self.name) and "-" not in name.rsplit(":", 1)[1]
        }

    def set_ports(self, env_file: Path) -> None:
        """Point every *_PORT of an env file at a free port, so copies never collide."""
        lines = [
            f"{line.split('=', 1)[0]}={free_port()}"
            if line.split("=", 1)[0].endswith("_PORT")
            else line
            for line in env_file.read_text().splitlines()
        ]
        env_file.write_text("\n".join(lines) + "\n")


def copy_example(example: str, parent: Path) -> Example:
    """Copy examples/<example> under a unique name; its dev env file gets free ports."""
    name = f"sy-ex-{uuid.uuid4().hex[:6]}"
    root = parent / example
    shutil.copytree(
        EXAMPLES / example,
        root,
        ignore=shutil.ignore_patterns(
            ".venv", "__pycache__", "results", ".env.dev", ".env.test", ".env.prod"
        ),
    )
    for path in [root / "pyproject.toml", *sorted((root / "compose").glob("*.yml"))]:
        path.write_text(path.read_text().replace(example, name))
    for path in [root / "generated", *(root / "generated").glob("*")]:
        if (
            path.exists()
        ):  # role-images' bind mount, owned by the developer (UID 1000) as on a laptop
            os.chown(path, 1000, 1000)
    copy = Example(root, name)
    created = copy.run("inv", "env-init", "--env", "dev")  # fresh secrets, as a user gets them
    if created.returncode:
        msg = f"env-init failed in {root}: {created.stderr}"
        raise RuntimeError(msg)
    copy.set_ports(root / "env/.env.dev")
    return copy


BUDGET = 2_000_000  # bytes a production image may add beyond base + venv + code


def production_overhead(image: str, base: str, app: tuple[str, ...] = ("/app",)) -> int:
    """Return the bytes ``image`` adds to ``base`` beyond its venv and its code.

    The venv is /app/.venv or /opt/venv, whichever the image has; the code is
    everything else under ``app``. What remains is the budgeted part: tini,
    the user, entrypoint scripts, and whatever a build left behind by mistake.
    """

    def size(ref: str) -> int:
        return int(docker("image", "inspect", "--format", "{{.Size}}", ref).stdout)

    # Bytes of regular files, as the engine counts a layer (du would add directories).
    files = "-type f -printf '%s\\n'"
    script = (
        f"for v in /app/.venv /opt/venv; do [ -d $v ] && find $v {files}; done; "
        f"for p in {' '.join(app)}; do [ -e $p ] && find $p -path /app/.venv -prune -o {files}; "
        "done; true"
    )
    out = docker("run", "--rm", "--entrypoint", "sh", image, "-c", script).stdout
    measured = sum(int(line) for line in out.split())
    return size(image) - size(base) - measured


def own_layers(image: str, base: str) -> list[str]:
    """Return the instructions of the layers ``image`` adds on top of ``base``."""
    mine = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", image).stdout.splitlines()
    theirs = docker("history", "--no-trunc", "--format", "{{.CreatedBy}}", base).stdout.splitlines()
    return mine[: len(mine) - len(theirs)]
