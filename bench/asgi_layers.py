"""In-process cost of each layer of the generated service's HTTP stack on `/livez`.

Run by bench/http_overhead.py with the generated project's Python:
`python bench/asgi_layers.py <package_name>`. Calls each ASGI app directly (no server, no
socket) a few thousand times and prints one JSON object: CPU microseconds per request for
a growing stack (bare Starlette, bare FastAPI, + the health router and registry, + dishka's
request scope, + the observability middleware, then the service's own `build_app`).
This is the profile behind benchmark 4's ratio. Then the cost of tracing: the service on
a route of its own with tracing off and on (`traced`).
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import sys
import time
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = b'{"status":"pass"}'


def layers(package: str) -> dict[str, Any]:
    main = importlib.import_module(f"{package}.main")
    settings_mod = importlib.import_module(f"{package}.settings")
    health_mod = importlib.import_module(f"{package}._platform.health")
    metrics_mod = importlib.import_module(f"{package}._platform.metrics")
    middleware_mod = importlib.import_module(f"{package}._platform.middleware")
    outbound_mod = importlib.import_module(f"{package}._platform.outbound.registry")
    dishka_fastapi = importlib.import_module("dishka.integrations.fastapi")
    settings = settings_mod.Settings(_env_file=None)

    def starlette() -> Any:
        async def livez(_request: Request) -> Response:
            return Response(BODY, media_type="application/health+json")

        return Starlette(routes=[Route("/livez", livez)])

    def fastapi() -> Any:
        app = FastAPI()

        @app.get("/livez")
        async def livez() -> JSONResponse:
            return JSONResponse({"status": "pass"}, media_type="application/health+json")

        return app

    def stack(dishka: bool, middleware: bool) -> Any:
        metrics = metrics_mod.Metrics(service="b", version="1", template_version="1", team="t")
        health = health_mod.HealthRegistry()
        app = FastAPI()
        app.router.routes.extend(health_mod.health_routes(health, "b", "1"))
        if dishka:
            outbound = outbound_mod.OutboundClients(settings, metrics)
            container = main.build_container(settings, metrics, health, outbound=outbound)
            dishka_fastapi.setup_dishka(container, app)
        if middleware:
            app.add_middleware(middleware_mod.ObservabilityMiddleware, metrics=metrics)
        return app

    return {
        "bare Starlette": starlette,
        "bare FastAPI (route on the app)": fastapi,
        "FastAPI + health routes and registry": lambda: stack(dishka=False, middleware=False),
        "  + dishka request scope": lambda: stack(dishka=True, middleware=False),
        "  + observability middleware": lambda: stack(dishka=True, middleware=True),
        "service build_app (everything)": lambda: main.build_app(settings),
    }


def traced(package: str) -> tuple[Any, dict[str, Any]]:
    """The service's `build_app` with a route of its own (`GET /bench/{n}`; probes make no
    span) and JSON logs at INFO to /dev/null, and the tracer providers to compare: none
    (tracing off, no `OTEL_TRACES_EXPORTER`), every request sampled and its span exported in
    batches (to an exporter that drops them: the export's network time is the collector's,
    not the request's), and a sampler that drops every trace."""
    main = importlib.import_module(f"{package}.main")
    settings_mod = importlib.import_module(f"{package}.settings")
    logs = importlib.import_module(f"{package}._platform.logs")
    tracing = importlib.import_module(f"{package}._platform.tracing")
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )
    from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON

    class Dropping(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    def provider(sampler: Any) -> Any:
        made = TracerProvider(sampler=sampler)
        made.add_span_processor(BatchSpanProcessor(Dropping()))
        return made

    stdout, sys.stdout = sys.stdout, open(os.devnull, "w")  # noqa: SIM115 - for the handler
    logs.configure_logging("INFO", "json")  # its handler keeps the stream it found
    sys.stdout = stdout
    service = main.build_app(settings_mod.Settings(_env_file=None))

    @service.get("/bench/{n}")
    async def bench(n: int) -> dict[str, int]:
        return {"n": n}

    return service, {
        "service GET /bench/{n}, tracing off": (tracing.use, None),
        "  tracing on, every request sampled": (tracing.use, provider(ALWAYS_ON)),
        "  tracing on, sampler always_off": (tracing.use, provider(ALWAYS_OFF)),
    }


async def cost(app: Any, n: int, path: str = "/livez") -> float:
    """CPU microseconds per GET `path`, calling the ASGI app directly."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message: dict[str, Any]) -> None:
        return None

    for _ in range(300):
        await app(dict(scope), receive, send)
    start = time.process_time()
    for _ in range(n):
        await app(dict(scope), receive, send)
    return (time.process_time() - start) / n * 1e6


async def main() -> None:
    package = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    results: dict[str, list[float]] = {}
    for name, factory in layers(package).items():
        app = factory()
        results[name] = [await cost(app, 3000) for _ in range(repeats)]
    service, variants = traced(package)
    for _ in range(repeats):  # interleaved: a load change on the machine hits all alike
        for name, (use, provider) in variants.items():
            use(provider)
            results.setdefault(name, []).append(await cost(service, 3000, "/bench/7"))
    sys.stdout.write(json.dumps(results) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
