"""The one-shot migration job the API waits for (`service_completed_successfully`)."""

from __future__ import annotations

import sys

from demo import store
from demo.settings import Settings


def main() -> int:
    """Apply the schema and exit 0."""
    with store.connect(Settings.from_env()) as conn:
        store.migrate(conn)
    print("migrate: schema up to date")  # noqa: T201 - the job's log line
    return 0


if __name__ == "__main__":
    sys.exit(main())
