"""The peers of the generated service's HTTP stack, served or called in process.

Run by bench/http_overhead.py with the peer environment's Python (same uvicorn, uvloop and
httptools versions as the generated project's lock):
`python bench/http_peers.py serve <app> <port> <body.json>` serves one app with the same
uvicorn settings as the service's `serve` command; `python bench/http_peers.py inproc <app>
<body.json> <repeats>` prints CPU microseconds per `/livez` request with no server (one JSON
list). Apps:

- `starlette`: bare Starlette, one route answering the service's own `/livez` body;
- `fastapi-stack`: what a team would build by hand instead: FastAPI, asgi-correlation-id's
  middleware (correlation id from `X-Request-ID`, bound to log records, echoed), and
  prometheus-fastapi-instrumentator (request count and latency by route, `/metrics`).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from asgi_layers import cost  # one way to measure in-process cost (same folder)


def starlette_app(body: bytes) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def livez(_request: Request) -> Response:
        return Response(
            body, media_type="application/health+json", headers={"cache-control": "no-store"}
        )

    return Starlette(routes=[Route("/livez", livez)])


def fastapi_stack(body: bytes) -> Any:
    from asgi_correlation_id import CorrelationIdMiddleware
    from fastapi import FastAPI
    from fastapi.responses import Response
    from prometheus_fastapi_instrumentator import Instrumentator

    app = FastAPI()

    @app.get("/livez")
    async def livez() -> Response:
        return Response(
            body, media_type="application/health+json", headers={"cache-control": "no-store"}
        )

    app.add_middleware(CorrelationIdMiddleware)
    Instrumentator().instrument(app).expose(app)
    return app


APPS = {"starlette": starlette_app, "fastapi-stack": fastapi_stack}


def main() -> int:
    mode, name = sys.argv[1], sys.argv[2]
    if mode == "serve":
        import uvicorn

        body = Path(sys.argv[4]).read_bytes()
        uvicorn.run(
            APPS[name](body),
            host="127.0.0.1",
            port=int(sys.argv[3]),
            log_config=None,
            access_log=False,
            server_header=False,
            lifespan="on",
        )
        return 0
    body = Path(sys.argv[3]).read_bytes()
    repeats = int(sys.argv[4])
    app = APPS[name](body)

    async def measure() -> list[float]:
        return [await cost(app, 3000) for _ in range(repeats)]

    sys.stdout.write(json.dumps(asyncio.run(measure())) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
