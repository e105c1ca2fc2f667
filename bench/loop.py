"""The edit-test loop of issue 22, each figure against its peer, in one run.

Usage: .venv/bin/python bench/loop.py [humanize=CHECKOUT] [--runs N]

On a private copy of the reference stack (unique names, removed afterwards):

- native: the suite run by pytest on this host, in a venv of the service's
  dependencies (built here, not timed), against the dev stack's PostgreSQL and
  Redis on their published ports (its worker stopped: the suite plays the
  worker): the floor an in-image run is held to;
- ``inv test`` on the kept stack after a source edit (a new line in
  ``demo/api.py`` each run), and its first run (stack started);
- with ``humanize=CHECKOUT`` (python-humanize/humanize, 700+ tests, adopted
  with ``shipyard init``): its own pytest in a host venv against ``inv test``
  after an edit;
- the peers of issue 10's open figures, measured again: a warm ``nox -s
  docker-test`` and the same steps typed with raw Compose, a no-op ``inv
  docker-build`` and its raw bake, ``inv --list`` and bare invoke (the
  functions of bench/speed.py).

Each figure is the median of N runs (default 3). Paste the table into
docs/benchmarks.md.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.speed import RUNS, edit, median, must, seconds, sh, startup, test_runs
from shipyard.core.config import load_stack, read_toml
from tests.integration.realstack import BIN, Stack, copy_stack, remove_everything

NATIVE_DEPS = ("fastapi", "uvicorn", "psycopg[binary]", "redis", "pytest", "httpx")


def native_venv(work: Path) -> Path:
    """Create a venv with the service's dependencies on this host (not timed)."""
    venv = work / "native"
    sh(sys.executable, "-m", "venv", str(venv))
    sh(str(venv / "bin/pip"), "install", "-q", *NATIVE_DEPS)
    return venv / "bin/pytest"


def env_values(stack: Stack) -> dict[str, str]:
    """Return env/.env.dev as a dict."""
    lines = (stack.root / "env/.env.dev").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


def native(stack: Stack, pytest: Path) -> float:
    """Time the suite on the host against the dev stack's published services."""
    must(stack, "inv", "dev-up")
    worker = sh(
        "docker", "ps", "--quiet", "--filter", f"label=com.docker.compose.project={stack.name}-dev",
        "--filter", "label=com.docker.compose.service=worker",
    ).split()  # fmt: skip
    sh("docker", "stop", *worker)  # the suite's job test plays the worker: none may race it
    values = env_values(stack)
    env = {
        **os.environ,
        "PYTHONPATH": str(stack.root / "app/src"),
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT_INTERNAL": values["POSTGRES_PORT"],
        "POSTGRES_USER": values["POSTGRES_USER"],
        "POSTGRES_PASSWORD": values["POSTGRES_PASSWORD"],
        "POSTGRES_DB": values["POSTGRES_DB"],
        "REDIS_URL": f"redis://127.0.0.1:{values['REDIS_PORT']}/0",
    }
    argv = (str(pytest), "-q", "-p", "no:cacheprovider")
    sh(*argv, cwd=stack.root / "app", env=env)  # bytecode and a warm cache, as a laptop has
    took = median(lambda: sh(*argv, cwd=stack.root / "app", env=env))
    must(stack, "inv", "dev-down", "--volumes", "--yes")
    return took


def kept(stack: Stack) -> dict[str, float]:
    """Time `inv test`: the first run (stack started), then runs after a source edit."""
    must(stack, "inv", "docker-build", "--env", "test")  # the first run's build is not ours
    first = seconds(lambda: must(stack, "inv", "test"))
    source = stack.root / "app/src/demo/api.py"

    def edited() -> None:
        edit(source)
        must(stack, "inv", "test")

    rerun = median(edited)
    must(stack, "inv", "test-down")
    return {"first": first, "rerun": rerun}


def adopted(checkout: Path, module: str, work: Path) -> dict[str, float]:
    """Native pytest against `inv test` after an edit, on a project adopted with init.

    The project is a pip package with a `tests` extra and no services
    (python-humanize/humanize: 700+ tests); native is its venv on this host,
    running the test command init found (its tox line: coverage and reports).
    """
    root = work / f"bench-adopted-{checkout.name}"
    shutil.copytree(checkout, root)
    env = {"SETUPTOOLS_SCM_PRETEND_VERSION": "0.0.0"}  # a copy without .git
    sh(str(BIN / "shipyard"), "init", "--no-verify", str(root), env=env)
    venv = work / "adopted-native"
    sh(sys.executable, "-m", "venv", str(venv))
    sh(str(venv / "bin/pip"), "install", "-q", "-e", f"{root}[tests]", env=env)
    # The same command as inv test runs (init's test-command: humanize's tox line, with
    # coverage and its reports), by the venv's Python.
    command = read_toml(root / "pyproject.toml")["tool"]["shipyard"]["init"]["test-command"]
    words = shlex.split(command)
    argv = (str(venv / "bin/python"), *words[1:]) if words[0] == "python" else tuple(words)
    sh(*argv, "-q", cwd=root)
    took = median(lambda: sh(*argv, "-q", cwd=root))
    inv = (str(BIN / "inv"), "test", "--", "-q")
    try:
        sh(*inv, cwd=root)  # the first run: build, stack, container

        def edited() -> None:
            edit(root / module)
            sh(*inv, cwd=root)

        rerun = median(edited)
    finally:
        subprocess.run((str(BIN / "inv"), "test-down"), cwd=root, check=False)
        images = sh("docker", "images", "--format", "{{.Repository}}:{{.Tag}}").split()
        mine = [ref for ref in images if ref.startswith(f"{load_stack(root).project}:")]
        if mine:
            sh("docker", "rmi", "--force", *mine)
    return {"native": took, "rerun": rerun}


def main() -> None:
    """Measure on a private copy; print the table."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        stack = copy_stack(work)
        try:
            picked = [a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("humanize=")]
            other = adopted(Path(picked[0]), "src/humanize/number.py", work) if picked else {}
            floor = native(stack, native_venv(work))
            loop = kept(stack)
            tests = test_runs(stack)
            start = startup(stack, work)
        finally:
            stack.run("inv", "test-down")
            remove_everything(stack.name)
    rows = [
        (
            "inv test, kept stack, after a source edit",
            f"{loop['rerun']:.2f} s",
            f"native pytest {floor:.2f} s + {loop['rerun'] - floor:.2f} s (goal: + 1.0 s)",
        ),
        (
            "inv test, first run (starts the kept stack)",
            f"{loop['first']:.2f} s",
            f"{loop['first'] / tests['nox']:.2f}x a warm docker-test ({tests['nox']:.2f} s)",
        ),
        (
            "nox -s docker-test, warm",
            f"{tests['nox']:.2f} s",
            f"{tests['nox'] / tests['raw']:.2f}x raw compose steps ({tests['raw']:.2f} s)",
        ),
        (
            "inv docker-build, nothing to do",
            f"{start['inv_noop']:.2f} s",
            (
                f"{start['inv_noop'] / start['raw_noop']:.2f}x its raw bake "
                f"({start['raw_noop']:.2f} s)"
            ),
        ),
        (
            "inv --list",
            f"{start['inv_list']:.3f} s",
            (
                f"{start['inv_list'] / start['invoke_list']:.2f}x bare invoke "
                f"({start['invoke_list']:.3f} s)"
            ),
        ),
    ]
    if other:
        rows.insert(
            1,
            (
                "inv test after an edit, humanize (adopted, 700+ tests)",
                f"{other['rerun']:.2f} s",
                (
                    f"native pytest {other['native']:.2f} s: "
                    f"{(other['rerun'] - 1.0) / other['native']:.2f}x native + 1.0 s "
                    "(goal: 1.05x)"
                ),
            ),
        )
    print(f"runs per figure: {RUNS}; median")
    print("| figure | measured | against its peer |\n|---|---:|---|")
    for name, value, ratio in rows:
        print(f"| {name} | {value} | {ratio} |")


if __name__ == "__main__":
    main()
