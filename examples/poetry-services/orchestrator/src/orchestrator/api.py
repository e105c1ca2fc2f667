"""HTTP API of the orchestrator: POST /jobs (bearer token) -> the reducer's answer."""

from __future__ import annotations

import os

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def health(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def jobs(request: Request) -> JSONResponse:
    token = os.environ.get("BRIDGE_TOKEN", "")
    if not token or request.headers.get("authorization") != f"Bearer {token}":
        return JSONResponse({"error": "unauthorized"}, status_code=401)
    body = await request.json()
    reducer = os.environ.get("REDUCER_URL", "http://reducer:8000")
    async with httpx.AsyncClient(timeout=5) as client:
        answer = await client.post(f"{reducer}/reduce", json={"values": body.get("values")})
    return JSONResponse(answer.json(), status_code=answer.status_code)


app = Starlette(routes=[Route("/health", health), Route("/jobs", jobs, methods=["POST"])])
