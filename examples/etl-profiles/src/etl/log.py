"""Structured logs: one JSON object a line on stdout, so `docker logs` can be parsed."""

from __future__ import annotations

import json
import os
import time
from typing import Any


def log(event: str, level: str = "info", **fields: Any) -> None:
    line = {"ts": round(time.time(), 3), "level": level, "role": os.environ.get("ROLE", "?")}
    print(json.dumps({**line, "event": event, **fields}), flush=True)
