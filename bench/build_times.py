"""Measure build, start and test times of the reference stack, side by side in one run.

Usage: .venv/bin/python bench/build_times.py [--cold-cache]

--cold-cache empties the engine's whole build cache (`docker builder prune
--all`: layers and uv's download cache, for every project on this engine)
before each cold measurement, as a fresh CI machine has none. Without it,
"cold" means `--no-cache` with the download cache still warm.
Works on a private copy of the reference stack (unique image and project
names) and removes everything it created. Prints seconds and ratios; paste
the table into docs/benchmarks.md.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.realstack import Stack, copy_stack, docker, remove_everything

COLD = "--cold-cache" in sys.argv[1:]


def timed(action: Callable[[], object]) -> float:
    """Return the seconds ``action`` took."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def must(stack: Stack, *argv: str) -> None:
    """Run an `inv`/`nox` command in the copy; stop the benchmark if it fails."""
    result = stack.run(*argv)
    if result.returncode:
        sys.exit(f"{' '.join(argv)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


def size_mb(image: str) -> float:
    """Return an image's size in MB as the engine reports it."""
    return int(docker("image", "inspect", "--format", "{{.Size}}", image).stdout) / 1e6


def empty_build_cache() -> None:
    """Forget every cached layer and download (only with --cold-cache)."""
    if COLD:
        docker("builder", "prune", "--all", "--force")


def main() -> None:
    """Run every measurement once and print the table."""
    with tempfile.TemporaryDirectory() as tmp:
        stack = copy_stack(Path(tmp))
        try:
            build = ("inv", "docker-build", "--target", "production")
            empty_build_cache()
            cold = timed(lambda: must(stack, *build, "--no-cache"))
            warm = timed(lambda: must(stack, *build))
            source = stack.root / "app/src/demo/__init__.py"
            # Unique text, so an earlier run's layers cannot be reused.
            source.write_text(f"{source.read_text()}\n# benchmark edit {time.time_ns()}\n")
            edited = timed(lambda: must(stack, *build))
            prod_mb, base_mb = size_mb(f"{stack.name}:production"), size_mb("python:3.13-slim")
            must(stack, "inv", "docker-build", "--target", "development")
            dev_up = timed(lambda: must(stack, "inv", "dev-up", "--no-build"))
            must(stack, "inv", "dev-down", "--volumes")
            empty_build_cache()
            test_cold = timed(lambda: must(stack, "nox", "-s", "docker-test"))
            test_warm = timed(lambda: must(stack, "nox", "-s", "docker-test"))
        finally:
            remove_everything(stack.name)

    kind = "empty build cache" if COLD else "--no-cache, warm download cache"
    rows = [
        (f"production build, cold ({kind})", cold, "1.00"),
        ("production build, warm (nothing changed)", warm, f"{warm / cold:.2f} of cold"),
        ("production build after a source-only change", edited, f"{edited / cold:.2f} of cold"),
        ("inv dev-up, images built, to all healthy", dev_up, ""),
        (f"nox -s docker-test, cold ({kind if COLD else 'layers cached'})", test_cold, "1.00"),
        ("nox -s docker-test, warm", test_warm, f"{test_warm / test_cold:.2f} of cold"),
    ]
    print(f"{'measurement':<60} {'seconds':>8}  ratio")
    for name, seconds, ratio in rows:
        print(f"{name:<60} {seconds:>8.1f}  {ratio}")
    ratio = f"{prod_mb / base_mb:.2f} of python:3.13-slim ({base_mb:.0f} MB)"
    print(f"{'production image size (MB)':<60} {prod_mb:>8.0f}  {ratio}")


if __name__ == "__main__":
    main()
