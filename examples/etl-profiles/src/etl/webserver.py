"""The webserver role: health (database included) and the runs' counts."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from etl import db


async def health(_: Request) -> JSONResponse:
    with db.connect() as conn:
        conn.execute("SELECT 1")
    return JSONResponse({"status": "ok"})


async def runs(_: Request) -> JSONResponse:
    with db.connect() as conn:
        return JSONResponse(db.counts(conn))


app = Starlette(routes=[Route("/health", health), Route("/runs", runs)])
