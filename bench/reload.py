"""Edit -> new response in an adopted project's dev stack, per framework, beside a restart.

Usage: .venv/bin/python bench/reload.py [FIXTURE ...]
(default: pip-flask poetry-django uv-fastapi)

Each fixture of tests/fixtures/adopt is copied under a unique project name,
adopted with `shipyard init`, and brought up with `inv dev-up` on free ports.
Then, three times each: a one-line edit of the module that answers a route
(Flask's `flask run --reload`, Django's runserver, uvicorn --reload), timed
from the write until the route answers with the edit; and `inv dev-restart
app` timed until the route answers again (what a user without reload does).
Prints the medians and reload/restart; removes everything it created.
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.realstack import REPO, Stack, free_port, remove_everything

# fixture: (the file to edit, the text the edit follows, the route that shows it)
EDITS = {
    "pip-flask": ("flaskr/__init__.py", '{"greeting": greeting', "/"),
    "poetry-django": ("inventory/views.py", 'JsonResponse({"items"', "/items/"),
    "uv-fastapi": ("notes/main.py", 'return {"status": "ok"', "/health"),
}
ROUNDS = 3


def answer(url: str) -> dict[str, object] | None:
    """Return the route's JSON, or None while the server is down or reloading."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own stack
            body = json.load(response)
            return body if isinstance(body, dict) else None
    except (OSError, urllib.error.URLError, json.JSONDecodeError):
        return None


def wait_for(url: str, edit: int | None, timeout: float = 60) -> float:
    """Return the seconds until the route answers (with ``"edit": edit``, when given)."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        body = answer(url)
        if body is not None and (edit is None or body.get("edit") == str(edit)):
            return time.perf_counter() - start
        time.sleep(0.05)
    sys.exit(f"{url} did not answer{f' with edit {edit}' if edit else ''} in {timeout}s")


def adopted(fixture: str, parent: Path) -> tuple[Stack, int]:
    """Copy and adopt ``fixture``; bring its dev stack up on a free port; return it."""
    name = f"sy-bench-{uuid.uuid4().hex[:6]}"
    root = parent / name
    shutil.copytree(REPO / "tests/fixtures/adopt" / fixture, root)
    settings = root / "pyproject.toml"
    if settings.is_file() and "[tool.shipyard]" not in settings.read_text():
        settings.write_text(settings.read_text() + f'\n[tool.shipyard]\nproject = "{name}"\n')
    else:
        (root / "shipyard.toml").write_text(f'project = "{name}"\n')
    stack = Stack(root, name, 0)
    for argv in (("shipyard", "init", "--no-verify"), ("inv", "env-init", "--env", "dev")):
        if (done := stack.run(*argv)).returncode:
            sys.exit(f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    port = free_port()
    env_dev = root / "env/.env.dev"
    env_dev.write_text(re.sub(r"(?m)^APP_PORT=.*$", f"APP_PORT={port}", env_dev.read_text()))
    if (up := stack.run("inv", "dev-up")).returncode:
        sys.exit(f"dev-up failed:\n{up.stderr[-3000:]}")
    return stack, port


def measure(fixture: str) -> tuple[float, float]:
    """Return the median seconds of an edit served by reload, and of a restart served."""
    path, anchor, route = EDITS[fixture]
    with tempfile.TemporaryDirectory() as tmp:
        stack, port = adopted(fixture, Path(tmp))
        url = f"http://127.0.0.1:{port}{route}"
        try:
            wait_for(url, None)
            module = stack.root / path
            original = module.read_text()
            reloads, restarts = [], []
            for edit in range(1, ROUNDS + 1):
                brace = original.index('{"', original.index(anchor))
                # A string: a route typed dict[str, str] (FastAPI checks it) keeps answering.
                module.write_text(f'{original[:brace]}{{"edit": "{edit}", "{original[brace + 2 :]}')
                reloads.append(wait_for(url, edit))
                start = time.perf_counter()
                if stack.run("inv", "dev-restart", "--service", "app").returncode:
                    sys.exit("dev-restart failed")
                wait_for(url, edit)
                restarts.append(time.perf_counter() - start)
        finally:
            stack.run("inv", "down", "--env", "dev", "--volumes", "--yes")
            remove_everything(stack.name)
    return statistics.median(reloads), statistics.median(restarts)


def main() -> None:
    """Measure each fixture and print one table."""
    fixtures = sys.argv[1:] or list(EDITS)
    print(f"{'fixture':<14} {'edit -> served s':>16} {'restart -> served s':>19}  reload/restart")
    for fixture in fixtures:
        reload, restart = measure(fixture)
        print(f"{fixture:<14} {reload:>16.2f} {restart:>19.2f}  {reload / restart:>14.2f}")


if __name__ == "__main__":
    main()
