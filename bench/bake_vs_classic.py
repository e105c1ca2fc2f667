"""Build an example's images with one buildx bake vs one classic `docker build` each, side by side.

Usage: .venv/bin/python bench/bake_vs_classic.py [EXAMPLE ...]
(default: role-images poetry-services)

Cold figures start from an empty build cache (`docker builder prune --all`,
for every project on this engine, as on a fresh CI machine); warm figures
rebuild with nothing changed. Works on private copies of the examples and
removes everything it created. Prints seconds and classic/bake ratios;
paste the table into docs/benchmarks.md.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.realstack import Example, copy_example, docker, remove_everything


def build(copy: Example, builder: str) -> float:
    """Return the seconds `inv docker-build` took with ``builder``; stop if it fails."""
    start = time.perf_counter()
    result = copy.run("inv", "docker-build", env={"SHIPYARD_BUILDER": builder})
    seconds = time.perf_counter() - start
    if result.returncode:
        sys.exit(f"docker-build ({builder}) failed:\n{result.stderr[-3000:]}")
    return seconds


def measure(example: str) -> list[tuple[str, float, float, int]]:
    """Return (case, bake seconds, classic seconds, images) for cold and warm builds."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = copy_example(example, Path(tmp))
        try:
            docker("builder", "prune", "--all", "--force")
            bake_cold = build(copy, "buildx")
            images = len(copy.images())
            docker("rmi", "--force", *copy.images())
            docker("builder", "prune", "--all", "--force")
            classic_cold = build(copy, "docker")
            bake_warm = build(copy, "buildx")
            classic_warm = build(copy, "docker")
        finally:
            remove_everything(copy.name)
    return [
        ("cold (empty build cache)", bake_cold, classic_cold, images),
        ("warm (nothing changed)", bake_warm, classic_warm, images),
    ]


def main() -> None:
    """Measure each example and print one table."""
    examples = sys.argv[1:] or ["role-images", "poetry-services"]
    print(
        f"{'example':<16} {'case':<26} {'images':>6} {'bake s':>7} {'classic s':>9}  classic/bake"
    )
    for example in examples:
        for case, bake, classic, images in measure(example):
            line = f"{example:<16} {case:<26} {images:>6} {bake:>7.1f} {classic:>9.1f}"
            print(f"{line}  {classic / bake:.2f}")


if __name__ == "__main__":
    main()
