"""Throwaway runs: a project name and labels of their own, proof of life, and the reaper.

Every ``docker-test`` run gets the compose project ``<project>-<env>-<run id>``
and labels on its containers, networks and volumes naming shipyard, the
project, the environment, the run and the host. While it runs, its process
holds an exclusive lock (filelock: flock on POSIX, LockFileEx on Windows) on a
file named after the run; the kernel drops the lock when the process dies,
even by ``kill -9``. The reaper (``inv gc``, and
the start of every run) removes what carries this project's run labels and
whose lock nobody holds: never a dev stack (no run label), never another
project, never a run that is still alive, never another host's run.
"""

from __future__ import annotations

import json
import socket
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from shipyard.core.process import Runner

MANAGED = "dev.shipyard.managed"
PROJECT = "dev.shipyard.project"
ENV = "dev.shipyard.env"
RUN = "dev.shipyard.run"
HOST = "dev.shipyard.host"


def runs_dir() -> Path:
    """Return the folder holding the lock files of live runs (per machine)."""
    return Path(tempfile.gettempdir()) / "shipyard-runs"


@dataclass(frozen=True)
class Run:
    """One throwaway run of a stack."""

    project: str
    env: str
    run_id: str
    host: str = field(default_factory=socket.gethostname)

    @property
    def compose_project(self) -> str:
        """Return the compose project name of the run."""
        return f"{self.project}-{self.env}-{self.run_id}"

    @property
    def lock_file(self) -> Path:
        """Return the file whose lock proves the run's process is alive."""
        return runs_dir() / f"{self.compose_project}.lock"

    @property
    def overlay_file(self) -> Path:
        """Return the compose overlay that labels the run's resources."""
        return self.lock_file.with_suffix(".labels.yml")

    def labels(self) -> dict[str, str]:
        """Return the labels put on everything the run creates."""
        return {
            MANAGED: "true",
            PROJECT: self.project,
            ENV: self.env,
            RUN: self.run_id,
            HOST: self.host,
        }


def labels_overlay(
    run: Run,
    services: Iterable[str],
    networks: Iterable[str],
    volumes: Iterable[str],
    images: Mapping[str, str] | None = None,
) -> str:
    """Return a compose overlay adding the run's labels to every service, network and volume.

    ``images`` (service -> tag) points the services built here at this
    checkout's own tags, which another checkout's build never moves.
    """
    networks = {"default", *networks}
    volumes = set(volumes)
    labels = run.labels()
    images = images or {}
    overlay = {
        "services": {
            name: {"labels": labels, **({"image": images[name]} if name in images else {})}
            for name in sorted(services)
        },
        "networks": {name: {"labels": labels} for name in sorted(networks)},
    }
    if volumes:
        overlay["volumes"] = {name: {"labels": labels} for name in sorted(volumes)}
    # JSON (which YAML reads) quotes every value: Compose's YAML 1.2 would read a
    # run id such as 399147e1 as the float 3.99147e+06 and gc would miss the run.
    return "# Written by shipyard for one run; removed when the run ends.\n" + json.dumps(
        overlay, indent=2, sort_keys=True
    )


def _lock(path: Path) -> FileLock:
    # Not thread-local, not a singleton: each FileLock is its own open file, so a
    # probe in the same process meets the holder's lock as another process would.
    return FileLock(path, thread_local=False)


@contextmanager
def holding(run: Run, overlay: str) -> Iterator[Path]:
    """Hold the run's lock and its labels overlay file for the length of the run."""
    runs_dir().mkdir(parents=True, exist_ok=True)
    overlay_file = run.overlay_file
    lock = _lock(run.lock_file)
    try:
        lock.acquire(timeout=0)
    except Timeout:  # pragma: no cover - run ids are random
        msg = f"run {run.compose_project} is already locked"
        raise RuntimeError(msg) from None
    try:
        overlay_file.write_text(overlay, encoding="utf-8")
        yield overlay_file
    finally:
        overlay_file.unlink(missing_ok=True)
        lock.release()
        run.lock_file.unlink(missing_ok=True)  # released first: never delete a held lock's file


def dead_lock_files(project: str) -> list[Path]:
    """Return the lock files of ``project``'s runs on this host whose process is gone.

    A run that ended removed its own; one killed (``kill -9``, a crash) left
    it: the evidence that there may be something to reap.
    """
    return [path for path in sorted(runs_dir().glob(f"{project}-*.lock")) if not _held(path)]


def _held(path: Path) -> bool:
    probe = _lock(path)
    try:
        probe.acquire(timeout=0)
    except Timeout:
        return True
    probe.release()
    return False


def is_alive(run: Run) -> bool:
    """Tell whether the process of ``run`` (on this host) still holds its lock."""
    return run.lock_file.exists() and _held(run.lock_file)


@dataclass
class Leftovers:
    """What one run left on the engine."""

    run: Run
    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    def describe(self) -> list[str]:
        """Return one line per resource."""
        return [
            f"{kind[:-1]} {name} (run {self.run.compose_project})"
            for kind, names in (
                ("containers", self.containers),
                ("networks", self.networks),
                ("volumes", self.volumes),
            )
            for name in names
        ]


_LISTINGS = {
    "containers": ["docker", "ps", "--all", "--format"],
    "networks": ["docker", "network", "ls", "--format"],
    "volumes": ["docker", "volume", "ls", "--format"],
}
_NAME = {"containers": "{{.Names}}", "networks": "{{.Name}}", "volumes": "{{.Name}}"}


def find_leftovers(runner: Runner, project: str, run_id: str | None = None) -> list[Leftovers]:
    """Return everything labelled as a run of ``project`` (or only ``run_id``), grouped by run."""
    found: dict[tuple[str, str, str], Leftovers] = {}
    fields = "\t".join(f'{{{{.Label "{label}"}}}}' for label in (ENV, RUN, HOST))
    for kind, listing in _LISTINGS.items():
        argv = [
            *listing,
            f"{_NAME[kind]}\t{fields}",
            "--filter",
            f"label={PROJECT}={project}",
            "--filter",
            f"label={RUN}={run_id}" if run_id else f"label={RUN}",
        ]
        for line in runner.run(argv, capture=True, query=True).stdout.splitlines():
            name, env, run_id, host = [*line.split("\t"), "", "", ""][:4]
            key = (env, run_id, host)
            found.setdefault(key, Leftovers(Run(project, env, run_id, host)))
            getattr(found[key], kind).append(name)
    return [found[key] for key in sorted(found)]


def stale(leftovers: list[Leftovers], *, host: str | None = None) -> list[Leftovers]:
    """Keep the runs of this host whose process is gone."""
    here = host or socket.gethostname()
    return [item for item in leftovers if item.run.host == here and not is_alive(item.run)]


def remove(runner: Runner, leftovers: Leftovers) -> None:
    """Remove a dead run's containers, then networks, then volumes."""
    if leftovers.containers:
        runner.run(
            ["docker", "rm", "--force", "--volumes", *leftovers.containers],
            capture=True,
            check=False,
        )
    if leftovers.networks:
        runner.run(["docker", "network", "rm", *leftovers.networks], capture=True, check=False)
    if leftovers.volumes:
        runner.run(
            ["docker", "volume", "rm", "--force", *leftovers.volumes], capture=True, check=False
        )
    leftovers.run.lock_file.unlink(missing_ok=True)
    leftovers.run.overlay_file.unlink(missing_ok=True)
