"""HTTP API of the reducer: POST /reduce {"values": [...]} -> {"sum": ..., "replica": ...}."""

from __future__ import annotations

import socket

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def reduce_values(values: list[float]) -> float:
    return sum(values)


async def health(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def reduce(request: Request) -> JSONResponse:
    body = await request.json()
    values = body.get("values")
    if not isinstance(values, list) or not all(isinstance(v, int | float) for v in values):
        return JSONResponse({"error": "values must be a list of numbers"}, status_code=422)
    return JSONResponse({"sum": reduce_values(values), "replica": socket.gethostname()})


app = Starlette(routes=[Route("/health", health), Route("/reduce", reduce, methods=["POST"])])
