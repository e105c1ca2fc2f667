"""Wait until the database answers, for at most --timeout seconds (the entrypoint's first step).

Each attempt is a JSON log line; at the deadline it logs an error naming the
last failure and exits 1, so a misconfigured stack fails fast and says why.
"""

from __future__ import annotations

import argparse
import sys
import time

from etl import db
from etl.log import log


def wait(timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    attempt = 0
    while True:
        attempt += 1
        try:
            with db.connect(timeout=min(3, timeout)) as conn:
                db.ensure_schema(conn)
        except Exception as exc:  # noqa: BLE001 - every failure is a reason to retry
            if time.monotonic() >= deadline:
                log("database unreachable", level="error", attempts=attempt, error=str(exc).strip())
                return False
            log("waiting for the database", attempt=attempt, error=str(exc).strip()[:200])
            time.sleep(interval)
        else:
            log("database ready", attempts=attempt)
            return True


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--timeout", type=float, default=30)
    sys.exit(0 if wait(parser.parse_args().timeout) else 1)
