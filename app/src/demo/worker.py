"""The background worker: same image as the API, started with another command.

`python -m demo.worker` runs the loop; `python -m demo.worker --check` is its
health check (the loop touches a heartbeat file after every poll).
"""

from __future__ import annotations

import logging
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from demo import store
from demo.settings import Settings

HEARTBEAT = Path("/tmp/demo-worker.heartbeat")  # noqa: S108 - container-local, one writer
STALE_AFTER = 15.0
log = logging.getLogger("demo.worker")


def run() -> int:
    """Process jobs until SIGTERM or SIGINT, then exit 0."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        log.info("received signal %d, finishing", signum)
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    cfg = Settings.from_env()
    queue = store.redis_client(cfg)
    with store.connect(cfg) as conn:
        log.info("worker ready")
        while not stopping:
            HEARTBEAT.touch()
            job_id = store.process_next(conn, queue, timeout=1.0)
            if job_id is not None:
                log.info("job %d done", job_id)
    return 0


def check() -> int:
    """Exit 0 when the loop polled recently."""
    try:
        age = time.time() - HEARTBEAT.stat().st_mtime
    except FileNotFoundError:
        print("no heartbeat yet")  # noqa: T201 - health-check output
        return 1
    print(f"last poll {age:.1f}s ago")  # noqa: T201 - health-check output
    return 0 if age < STALE_AFTER else 1


if __name__ == "__main__":
    sys.exit(check() if "--check" in sys.argv[1:] else run())
