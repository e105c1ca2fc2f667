"""The web role: a status page that asks the API whether it is up."""

from __future__ import annotations

import json
import os
import urllib.request

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def health(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "role": "web"})


async def status(_: Request) -> JSONResponse:
    url = os.environ.get("API_URL", "http://api:8080") + "/health"
    with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - a fixed http URL
        return JSONResponse({"api": json.load(answer)})


app = Starlette(routes=[Route("/health", health), Route("/", status)])
