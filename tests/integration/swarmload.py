"""A one-node swarm for the deploy tests and bench/rolling.py: found as it was left, and load.

The load is bounded (a fixed number of requests, a time limit) and goes to
127.0.0.1 only: a few threads GET one URL back to back and count what failed.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.integration.realstack import Stack, docker, free_port, head

HAS_IPVS = Path("/proc/net/ip_vs").exists()  # Swarm's VIPs and routing mesh need it
# Where the kernel has no IPVS (this CI's VMs), services find each other by DNS
# round-robin and publish on the node: shipyard's swarm-endpoint-mode setting.
# The stand-in postgres:17 reads no POSTGRES_PASSWORD_FILE (the official image
# does): its secret becomes a variable (swarm-env-secrets).
SWARM_SETTINGS = {
    "SHIPYARD_SWARM_ENDPOINT_MODE": "vip" if HAS_IPVS else "dnsrr",
    "SHIPYARD_SWARM_ENV_SECRETS": "db",
}


@contextmanager
def one_node_swarm() -> Iterator[None]:
    """Make this engine a one-node swarm for the block, unless it is one already."""
    state = docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    networks = docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    if state != "active":
        docker("swarm", "init", "--advertise-addr", "127.0.0.1")
    try:
        yield
    finally:
        if state != "active":
            docker("swarm", "leave", "--force", check=False)
            # `swarm init` made the bridge that joins tasks to the host; `leave` keeps it.
            if "docker_gwbridge" not in networks:
                docker("network", "rm", "docker_gwbridge", check=False)


def swarm_leftovers(stack: str) -> dict[str, list[str]]:
    """Return the services, secrets, networks, containers and volumes labelled with ``stack``."""
    label = f"label=com.docker.stack.namespace={stack}"
    return {
        kind: docker(*argv, "--filter", label, "--format", name).stdout.split()
        for kind, argv, name in (
            ("services", ("service", "ls"), "{{.Name}}"),
            ("secrets", ("secret", "ls"), "{{.Name}}"),
            ("networks", ("network", "ls"), "{{.Name}}"),
            ("containers", ("ps", "--all"), "{{.Names}}"),
            ("volumes", ("volume", "ls"), "{{.Name}}"),
        )
    }


def remove_stack(stack: str) -> None:
    """Remove a stack and its data volumes, whatever state a test left it in."""
    docker("stack", "rm", stack, check=False)
    deadline = time.monotonic() + 60
    label = f"label=com.docker.stack.namespace={stack}"
    while time.monotonic() < deadline and docker("ps", "-aq", "--filter", label).stdout.strip():
        time.sleep(0.5)
    for network in docker("network", "ls", "-q", "--filter", label).stdout.split():
        docker("network", "rm", network, check=False)
    volumes = docker("volume", "ls", "-q", "--filter", label).stdout.split()
    if volumes:
        docker("volume", "rm", "--force", *volumes, check=False)


@dataclass
class Load:
    """What a load loop sent and what failed."""

    sent: int = 0
    failed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, reason: str | None) -> None:
        with self.lock:
            self.sent += 1
            if reason:
                self.failed += 1
                self.reasons[reason] += 1


@contextmanager
def load(
    port: int, path: str = "/health", *, threads: int = 4, limit: int = 20_000, seconds: float = 300
) -> Iterator[Load]:
    """GET http://127.0.0.1:<port><path> from ``threads`` threads until the block ends.

    Bounded: at most ``limit`` requests and ``seconds`` seconds in all.
    """
    result = Load()
    stop = threading.Event()
    deadline = time.monotonic() + seconds

    def hammer() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            with result.lock:
                if result.sent >= limit:
                    return
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                reason = None if response.status == 200 else f"HTTP {response.status}"
            except OSError as exc:
                reason = type(exc).__name__
            finally:
                connection.close()
            result.count(reason)

    workers = [threading.Thread(target=hammer, daemon=True) for _ in range(threads)]
    start = time.monotonic()
    for worker in workers:
        worker.start()
    try:
        yield result
    finally:
        stop.set()
        for worker in workers:
            worker.join()
        result.seconds = time.monotonic() - start


@dataclass(frozen=True)
class Deployment:
    """A committed copy whose prod images are pushed and promoted to :prod."""

    copy: Stack
    env: dict[str, str]  # what `inv deploy` and friends run with
    stack: str
    port: int  # the proxy's published port
    api_ref: str  # <registry>/team/<name>:prod


def _ok(result: subprocess.CompletedProcess[str]) -> None:
    if result.returncode:
        msg = f"{' '.join(result.args)} failed: {result.stdout[-1000:]}{result.stderr[-2000:]}"
        raise RuntimeError(msg)


def prepare(copy: Stack, registry: str) -> Deployment:
    """Write env/.env.prod (a free port), build, push and promote the prod images."""
    env_file = copy.root / "env/.env.prod"
    _ok(copy.run("inv", "env-init", "--env", "prod"))
    port = free_port()
    text = re.sub(r"^API_PORT=.*$", f"API_PORT={port}", env_file.read_text(), flags=re.MULTILINE)
    env_file.write_text(text)
    env = {"SHIPYARD_REGISTRY": f"{registry}/team", **SWARM_SETTINGS}
    _ok(copy.run("inv", "docker-build", "--env", "prod"))
    _ok(copy.run("inv", "push", env=env))
    _ok(copy.run("inv", "promote", "--from", head(copy), env=env))
    return Deployment(
        copy, env, f"{copy.name}-prod-swarm", port, f"{registry}/team/{copy.name}:prod"
    )


def pushed_digest(ref: str) -> str:
    """Return the registry digest of a ref this engine pushed or pulled."""
    found = docker("image", "inspect", "--format", "{{json .RepoDigests}}", ref).stdout
    return str(json.loads(found)[0]).split("@", 1)[1]


def running_digest(service: str) -> str:
    """Return the digest of the image a Swarm service runs."""
    image = docker(
        "service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.Image}}", service
    )
    return image.stdout.strip().split("@", 1)[1]


def new_version(ref: str, dockerfile: str, folder: Path) -> str:
    """Build ``dockerfile`` (``ARG BASE``: ``ref``), push it as ``ref``; return its digest."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "Dockerfile").write_text(dockerfile)
    subprocess.run(
        ["docker", "build", "--quiet", "--build-arg", f"BASE={ref}", "--tag", ref, str(folder)],
        capture_output=True,
        check=True,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )
    docker("push", "--quiet", ref)
    return pushed_digest(ref)


NEXT_VERSION = "ARG BASE\nFROM ${BASE}\nLABEL dev.shipyard.test=next\n"
FAILING_HEALTH = (
    "ARG BASE\nFROM ${BASE}\nUSER root\n"
    'RUN printf "raise SystemExit(1)\\n" > /app/src/demo/healthcheck.py\nUSER app\n'
)
