"""The API role: answers health checks and lists pipelines, behind a bearer token."""

from __future__ import annotations

import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

PIPELINES = ["daily_orders", "hourly_events"]


async def health(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "role": "api"})


async def pipelines(request: Request) -> JSONResponse:
    token = os.environ.get("API_TOKEN", "")
    if not token or request.headers.get("authorization") != f"Bearer {token}":
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    return JSONResponse({"pipelines": PIPELINES})


app = Starlette(routes=[Route("/health", health), Route("/pipelines", pipelines)])
