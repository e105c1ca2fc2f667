"""The daemon and runner roles: loops that schedule runs, or finish them, with a heartbeat.

`python -m etl.worker daemon|runner` runs a role; `--check` is its health
check (the heartbeat file is fresh). SIGTERM ends the loop at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from etl import db
from etl.log import log

HEARTBEAT = Path("/tmp/heartbeat")  # noqa: S108 - inside the container
STALE_AFTER = 10.0


def healthy() -> bool:
    return HEARTBEAT.exists() and time.time() - HEARTBEAT.stat().st_mtime < STALE_AFTER


def loop(role: str, interval: float) -> None:
    log("started", interval=interval)
    with db.connect() as conn:
        while True:
            if role == "daemon":
                log("scheduled", run=db.schedule(conn))
            else:
                while (run := db.claim_and_finish(conn)) is not None:
                    log("finished", run=run)
            HEARTBEAT.touch()
            time.sleep(interval)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["daemon", "runner"])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.check:
        sys.exit(0 if healthy() else 1)
    loop(args.role, float(os.environ.get("INTERVAL", "2")))
