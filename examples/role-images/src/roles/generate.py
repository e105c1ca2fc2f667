"""Generate the user-code role's dependencies (the way `dbt deps` fills dbt_packages).

`python -m roles.generate DIR` writes one manifest per package into DIR. The
image runs it at build time into /opt/baked/generated; the entrypoint copies
that baked copy into an empty bind mount instead of regenerating, and never
deletes what a developer already has there.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PACKAGES = {"dbt_utils": "1.3.0", "codegen": "0.12.1"}


def generate(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, version in sorted(PACKAGES.items()):
        path = folder / f"{name}.json"
        path.write_text(json.dumps({"name": name, "version": version}) + "\n", encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in generate(Path(sys.argv[1])):
        print(f"generated {path}")
