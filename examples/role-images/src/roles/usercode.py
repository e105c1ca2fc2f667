"""The user-code role: serves the generated packages it finds in /app/generated."""

from __future__ import annotations

import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

GENERATED = Path(os.environ.get("GENERATED_DIR", "/app/generated"))


async def health(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "role": "user-code"})


async def packages(_: Request) -> JSONResponse:
    return JSONResponse({"packages": sorted(p.stem for p in GENERATED.glob("*.json"))})


app = Starlette(routes=[Route("/health", health), Route("/packages", packages)])
