"""Every speed and size figure of issue 10, each against its floor or peer, in one run.

Usage: .venv/bin/python bench/speed.py [--runs N]

Works on a private copy of the reference stack (unique names) and removes what
it created. Each figure is the median of N runs (default 3) measured side by
side with its floor or peer in the same run:

- builds run the exact bake definition ``inv docker-build`` writes (so the
  figures are BuildKit's, not Python's); the floor is a one-file COPY onto the
  production image, built and exported the same way;
- the "before" is a naive single-stage Dockerfile of the same service (the
  shape the teams in ../shared/seeds/ start from): ``COPY . .`` then ``pip
  install .``;
- a dependency change adds a package to app/pyproject.toml and re-locks it
  (with uv, in the stack's own uv image) before the timed rebuild;
- ``nox -s docker-test`` is compared with the same steps typed by hand with
  raw ``docker compose`` on the same files; time to first test is from the
  command's start to pytest's session start (JUnit's timestamp).

It empties the engine's build cache (``docker builder prune --all``) for the
cold figures. Paste the printed table into docs/benchmarks.md.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.realstack import (
    BIN,
    Stack,
    copy_stack,
    docker,
    production_overhead,
    remove_everything,
)

RUNS = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3
# A user's Python writes bytecode; a machine that says not to (this VM does) would
# make every `inv` compile shipyard from source and time the compiler instead.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
BASE = "python:3.13-slim"
CA = os.environ.get("PIP_CERT") or "/etc/ssl/certs/ca-certificates.crt"
NAIVE = f"""FROM {BASE}
WORKDIR /app
COPY . .
RUN --mount=type=secret,id=ca,target=/etc/ssl/certs/ca-certificates.crt \\
    PIP_CERT=/etc/ssl/certs/ca-certificates.crt pip install .
CMD ["uvicorn", "demo.api:app", "--host", "0.0.0.0", "--port", "8000"]
"""


def seconds(action: Callable[[], object]) -> float:
    """Return how long ``action`` took."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median(action: Callable[[], object], runs: int = RUNS) -> float:
    """Return the median time of ``runs`` runs of ``action``."""
    return statistics.median(seconds(action) for _ in range(runs))


def sh(
    *argv: str, cwd: Path | None = None, env: dict[str, str] | None = None, stderr: bool = False
) -> str:
    """Run a command; stop the benchmark with its output if it fails; return its stdout.

    ``stderr``: its stderr follows its stdout in what is returned.
    """
    done = subprocess.run(
        argv,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    if done.returncode:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout + (done.stderr if stderr else "")


def must(stack: Stack, *argv: str) -> str:
    """Run `inv`/`nox` in the copy; stop the benchmark if it fails."""
    done = stack.run(*argv)
    if done.returncode:
        sys.exit(f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return done.stdout


def bake_file(stack: Stack, folder: Path) -> Path:
    """Write the bake definition `inv docker-build --target production` runs."""
    out = stack.run("inv", "--dry", "docker-build", "--target", "production").stderr
    text = out[out.index("bake definition:") + len("bake definition:") :]
    definition = json.loads(text[: text.rindex("}") + 1])
    path = folder / "bake.json"
    path.write_text(json.dumps(definition))
    return path


def edit(path: Path) -> None:
    """Change a source file with text no earlier run can have cached."""
    path.write_text(f"{path.read_text()}\n# bench {uuid.uuid4().hex}\n")


def add_dependency(stack: Stack) -> None:
    """Add a package to the service and re-lock it with the stack's own uv (not timed)."""
    app = stack.root / "app"
    pyproject = app / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("dependencies = [", 'dependencies = [\n    "six>=1.16",', 1)
    )
    uv_image = f"{stack.name}-bench-uv"
    sh(
        "docker", "buildx", "build", "--load", "--target", "uv-base", "-t", uv_image,
        "-f", str(stack.root / "docker/Dockerfile"), str(app),
    )  # fmt: skip
    sh(
        "docker", "run", "--rm", "-v", f"{app}:/src", "-w", "/src",
        "-v", f"{CA}:/etc/ssl/certs/ca-certificates.crt:ro", uv_image, "uv", "lock",
    )  # fmt: skip
    docker("rmi", uv_image, check=False)


def builds(stack: Stack, work: Path) -> dict[str, float]:
    """Cold, no-op, source-only, dependency-change and floor builds, and sizes."""
    bake = bake_file(stack, work)
    build = ("docker", "buildx", "bake", "--file", str(bake), "--load")
    image = f"{stack.name}:production"
    docker("builder", "prune", "--all", "--force")
    cold = seconds(lambda: sh(*build))
    noop = median(lambda: sh(*build))
    source = stack.root / "app/src/demo/api.py"

    def edited_build() -> None:
        edit(source)
        sh(*build)

    source_only = median(edited_build)
    floor_dir = work / "floor"
    floor_dir.mkdir()
    (floor_dir / "Dockerfile").write_text(f"FROM {image}\nCOPY edit.txt /app/edit.txt\n")
    floor_build = (
        "docker",
        "buildx",
        "build",
        "--load",
        "-t",
        f"{stack.name}-floor",
        str(floor_dir),
    )

    def floor_once() -> None:
        (floor_dir / "edit.txt").write_text(uuid.uuid4().hex)
        sh(*floor_build)

    floor = median(floor_once)
    history = sh("docker", "history", "--no-trunc", "--human=false", "--format",
                 "{{.Size}}\t{{.CreatedBy}}", image)  # fmt: skip
    layer = next(int(row.split("\t")[0]) for row in history.splitlines() if "COPY src" in row)
    add_dependency(stack)
    dependency = seconds(lambda: sh(*build))
    overhead = production_overhead(image, BASE)
    return {
        "cold": cold,
        "noop": noop,
        "source_only": source_only,
        "floor": floor,
        "dependency": dependency,
        "overhead": overhead,
        "size": float(docker("image", "inspect", "--format", "{{.Size}}", image).stdout),
        "base": float(docker("image", "inspect", "--format", "{{.Size}}", BASE).stdout),
        "code_layer": float(layer),
    }


def naive(stack: Stack) -> dict[str, float]:
    """Build the "before": one stage, COPY . . then pip install ."""
    app = stack.root / "app"
    dockerfile = stack.root / "naive.Dockerfile"
    dockerfile.write_text(NAIVE)
    image = f"{stack.name}-naive"
    build = (
        "docker", "buildx", "build", "--load", "-t", image, "-f", str(dockerfile),
        "--secret", f"id=ca,src={CA}", str(app),
    )  # fmt: skip
    docker("builder", "prune", "--all", "--force")
    cold = seconds(lambda: sh(*build))
    source = app / "src/demo/api.py"

    def edited_build() -> None:
        edit(source)
        sh(*build)

    source_only = median(edited_build)
    size = float(docker("image", "inspect", "--format", "{{.Size}}", image).stdout)
    docker("rmi", image, check=False)
    return {"cold": cold, "source_only": source_only, "size": size}


def startup(stack: Stack, work: Path) -> dict[str, float]:
    """Time `inv --list` against bare invoke, a no-op `inv docker-build` against its bake."""
    bare = work / "bare"
    bare.mkdir()
    (bare / "tasks.py").write_text(
        'from invoke import task\n\n\n@task\ndef hello(c):\n    """Say hello."""\n'
    )
    pairs = [
        (
            seconds(lambda: sh(str(BIN / "invoke"), "--list", cwd=bare)),
            seconds(lambda: must(stack, "inv", "--list")),
        )
        for _ in range(max(RUNS, 5) * 4 + 1)  # side by side, in turns: drift hits both
    ]
    invoke_list = statistics.median(bare for bare, _ in pairs[1:])  # the first run writes .pyc
    inv_list = statistics.median(inv for _, inv in pairs[1:])
    bake = bake_file(stack, work)
    raw = median(lambda: sh("docker", "buildx", "bake", "--file", str(bake), "--load"))
    inv = median(lambda: must(stack, "inv", "docker-build", "--target", "production"))
    return {"invoke_list": invoke_list, "inv_list": inv_list, "raw_noop": raw, "inv_noop": inv}


def compose(stack: Stack, project: str, *args: str) -> list[str]:
    """Return raw compose argv for the copy's test stack under ``project``."""
    return [
        "docker", "compose", "--project-name", project,
        "--file", str(stack.root / "compose/docker-compose.yml"),
        "--file", str(stack.root / "compose/docker-compose.test.yml"),
        "--env-file", str(stack.root / "env/.env.test"), *args,
    ]  # fmt: skip


def first_test(stack: Stack, started: float) -> float:
    """Return seconds from ``started`` (epoch) to pytest's session start in results/junit.xml."""
    suite = ET.parse(stack.root / "results/junit.xml").getroot()  # noqa: S314 - our own file
    suite = suite if suite.tag == "testsuite" else suite[0]
    stamp = dt.datetime.fromisoformat(suite.get("timestamp", "")).timestamp()
    return stamp - started


def test_runs(stack: Stack) -> dict[str, float]:
    """Warm docker-test against the same steps with raw docker compose."""
    must(stack, "nox", "-s", "docker-test")  # warm the layers and write env/.env.test
    nox_times, firsts = [], []
    for _ in range(RUNS):
        started = time.time()
        nox_times.append(seconds(lambda: must(stack, "nox", "-s", "docker-test")))
        firsts.append(first_test(stack, started))
    project = f"{stack.name}-bench"

    def raw() -> None:  # `run` starts the dependencies and waits for their conditions
        sh(*compose(stack, project, "--profile", "tests", "run", "--rm", "tests"))
        sh(*compose(stack, project, "--profile", "*", "down", "--volumes", "--timeout", "0"))

    return {
        "nox": statistics.median(nox_times),
        "first_test": statistics.median(firsts),
        "raw": median(raw),
    }


def dev_up(stack: Stack) -> dict[str, float]:
    """Time `inv dev-up` against raw `docker compose up -d --wait` (images built)."""
    must(stack, "inv", "docker-build", "--env", "dev")
    raw_compose = [
        "docker", "compose", "--project-name", f"{stack.name}-dev",
        "--file", str(stack.root / "compose/docker-compose.yml"),
        "--file", str(stack.root / "compose/docker-compose.dev.yml"),
        "--env-file", str(stack.root / "env/.env.dev"),
    ]  # fmt: skip
    inv_times, raw_times = [], []
    for _ in range(RUNS):
        inv_times.append(seconds(lambda: must(stack, "inv", "dev-up", "--no-build")))
        must(stack, "inv", "dev-down")
        raw_times.append(seconds(lambda: sh(*raw_compose, "up", "--detach", "--wait")))
        sh(*raw_compose, "down")
    must(stack, "inv", "dev-down", "--volumes", "--yes")
    return {"inv": statistics.median(inv_times), "raw": statistics.median(raw_times)}


def main() -> None:
    """Measure everything on a private copy; print the table."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        stack = copy_stack(work)
        try:
            up = dev_up(stack)
            tests = test_runs(stack)
            start = startup(stack, work)
            built = builds(stack, work)
            before = naive(stack)
        finally:
            remove_everything(stack.name)
    mb = 1e6
    rows = [
        ("production build, cold (empty build cache)", f"{built['cold']:.2f} s", "1.00"),
        (
            "production rebuild, source-only change",
            f"{built['source_only']:.2f} s",
            (
                f"{built['source_only'] / built['floor']:.2f}x floor, "
                f"{built['source_only'] / built['cold']:.1%} of cold"
            ),
        ),
        ("  floor: one-file COPY onto the image + export", f"{built['floor']:.2f} s", ""),
        (
            "production rebuild, dependency change",
            f"{built['dependency']:.2f} s",
            f"{built['dependency'] / built['cold']:.1%} of cold",
        ),
        ("production rebuild, nothing changed", f"{built['noop']:.2f} s", ""),
        (
            "production image beyond base + venv + code",
            f"{built['overhead'] / mb:.2f} MB",
            f"budget 2 MB; image {built['size'] / mb:.0f} MB, base {built['base'] / mb:.0f} MB",
        ),
        ("  layer a source-only change writes", f"{built['code_layer'] / 1e3:.1f} kB", ""),
        ("before: naive single-stage build, cold", f"{before['cold']:.2f} s", ""),
        (
            "before: naive rebuild, source-only change",
            f"{before['source_only']:.2f} s",
            f"{before['source_only'] / built['source_only']:.1f}x ours",
        ),
        (
            "before: naive image size",
            f"{before['size'] / mb:.0f} MB",
            f"{(before['size'] - built['size']) / mb:+.0f} MB vs ours",
        ),
        (
            "inv --list",
            f"{start['inv_list']:.3f} s",
            (
                f"{start['inv_list'] / start['invoke_list']:.2f}x bare invoke "
                f"({start['invoke_list']:.3f} s)"
            ),
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
            "nox -s docker-test, warm",
            f"{tests['nox']:.2f} s",
            f"{tests['nox'] / tests['raw']:.2f}x raw compose steps ({tests['raw']:.2f} s)",
        ),
        ("  time to first test (start -> pytest starts)", f"{tests['first_test']:.2f} s", ""),
        (
            "inv dev-up, images built, to healthy",
            f"{up['inv']:.2f} s",
            f"{up['inv'] / up['raw']:.2f}x raw up --wait ({up['raw']:.2f} s)",
        ),
    ]
    print("| figure | measured | against its floor or peer |\n|---|---:|---|")
    for name, value, ratio in rows:
        print(f"| {name} | {value} | {ratio} |")


if __name__ == "__main__":
    main()
