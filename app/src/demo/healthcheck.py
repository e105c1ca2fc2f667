"""The API's container health check: GET /health without curl in the image."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

URL = "http://127.0.0.1:8000/health"


def main() -> int:
    """Exit 0 when /health answers 200, printing the body either way."""
    url = sys.argv[1] if len(sys.argv) > 1 else URL
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - fixed local URL
            print(response.read().decode())  # noqa: T201 - health-check output
            return 0
    except urllib.error.HTTPError as exc:
        print(f"{exc.code}: {exc.read().decode()}")  # noqa: T201
    except OSError as exc:
        print(f"unreachable: {exc}")  # noqa: T201
    return 1


if __name__ == "__main__":
    sys.exit(main())
