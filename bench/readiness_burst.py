"""Benchmark: a burst of readiness probes against a served service on PostgreSQL.

A generated service (default answers, the Kafka consumer off so that readiness is the
database's checks and the process's) is migrated and served by its own `serve` command on a
fresh PostgreSQL database. A client in the project's environment sends 500 `GET /readyz`,
100 at a time, while another task sends `GET /items` one after the other; before the burst
the same `GET /items` loop runs alone for the baseline. Figures per round: probe req/s and
p99, failed probes, new PostgreSQL sessions during the burst (`pg_stat_database.sessions`),
and `GET /items` p50/p99 alone, during the burst, and during the same burst of `/livez`.
Since readiness is evaluated in the background (ADR 0021), a probe reads the cached result:
the burst should open no session, and `GET /items` should fare as it does beside a burst of
liveness probes (which do no I/O): what is left is the cost of answering 100 concurrent
requests on one process, not of readiness. A figure, not a timed test.

Run: UV_PYTHON_DOWNLOADS=never uv run python bench/readiness_burst.py [--rounds 3]
(needs PostgreSQL at BENCH_POSTGRES_URL, default postgresql://app:app@127.0.0.1:5432/app)
"""

from __future__ import annotations

import argparse
import json
import subprocess
import textwrap

from _common import (
    PG_ADMIN_URL,
    Figure,
    answers,
    create_database,
    env,
    env_prefix,
    free_port,
    generate,
    out,
    report,
    run,
    stop,
    wait_for_http,
    workdir,
)

DATABASE = "bench_readiness"

CLIENT = """\
import asyncio
import json
import statistics
import sys
import time

import httpx

BASE, TOTAL, CONCURRENCY = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])


def p(samples, q):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def items_loop(client, stop, latencies):
    while not stop.is_set():
        started = time.perf_counter()
        response = await client.get("/items")
        latencies.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text


async def burst(client, path):
    # TOTAL probes of `path`, CONCURRENCY at a time, while GET /items runs one after another.
    during, stop = [], asyncio.Event()
    task = asyncio.create_task(items_loop(client, stop, during))
    gate = asyncio.Semaphore(CONCURRENCY)
    probes, failed = [], 0

    async def probe():
        nonlocal failed
        async with gate:
            started = time.perf_counter()
            try:
                response = await client.get(path)
                if response.status_code != 200:
                    failed += 1
            except httpx.HTTPError:
                failed += 1
            probes.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(probe() for _ in range(TOTAL)))
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    return TOTAL / elapsed, p(probes, 0.99), failed, during


async def main():
    limits = httpx.Limits(max_connections=CONCURRENCY + 1, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=BASE, limits=limits, timeout=30) as client:
        alone, stop = [], asyncio.Event()
        task = asyncio.create_task(items_loop(client, stop, alone))
        await asyncio.sleep(2)
        stop.set()
        await task
        rps, p99, failed, during = await burst(client, "/readyz")
        # The same burst of liveness probes (process-only, no I/O): the cost of answering
        # 100 concurrent requests at all, against which readiness is compared.
        _, _, _, during_livez = await burst(client, "/livez")
    print(json.dumps({
        "rps": rps,
        "p99_ms": p99,
        "failed": failed,
        "items_alone_p50_ms": statistics.median(alone),
        "items_during_p50_ms": statistics.median(during) if during else 0.0,
        "items_during_p99_ms": p(during, 0.99),
        "items_during_livez_p50_ms": statistics.median(during_livez) if during_livez else 0.0,
    }))


asyncio.run(main())
"""


def sessions() -> int:
    """Sessions PostgreSQL has opened on the benchmark's database so far (PostgreSQL 14+)."""
    sql = "select sessions from pg_stat_database where datname = 'bench_readiness'"
    result = run(["psql", PG_ADMIN_URL, "-tAc", sql])
    return int(result.stdout.strip() or 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=100)
    args = parser.parse_args()

    rps = Figure(f"/readyz, {args.requests} requests {args.concurrency} at a time", "req/s")
    p99 = Figure("/readyz p99 latency", "ms")
    failed = Figure("/readyz requests failed or not 200", "requests", target="0")
    new_sessions = Figure("new PostgreSQL sessions during the burst", "sessions", target="0")
    alone = Figure("GET /items p50, alone", "ms")
    during = Figure("GET /items p50, during the /readyz burst", "ms")
    during_p99 = Figure("GET /items p99, during the /readyz burst", "ms")
    during_livez = Figure("GET /items p50, during the same burst of /livez", "ms")
    ratio = Figure(
        "GET /items p50 during /readyz burst ÷ during /livez burst", "x", target="<= 1.25"
    )

    with workdir("readiness") as tmp:
        project = generate(tmp / "svc")
        python = project / ".venv" / "bin" / "python"
        prefix = env_prefix(project)
        package = answers(project)["package_name"]
        service_env = {
            f"{prefix}DATABASE_URL": create_database(PG_ADMIN_URL, DATABASE),
            f"{prefix}KAFKA_CONSUMER_ENABLED": "false",
            f"{prefix}LOG_LEVEL": "WARNING",
        }
        run([python, "-m", package, "migrate"], cwd=project, environ=env(**service_env))
        client = tmp / "client.py"
        client.write_text(textwrap.dedent(CLIENT))
        for i in range(args.rounds):
            port = free_port()
            environ = env(**service_env, **{f"{prefix}HTTP_PORT": str(port)})
            process = subprocess.Popen(
                [python, "-m", package, "serve"],
                cwd=project,
                env=environ,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            base = f"http://127.0.0.1:{port}"
            try:
                wait_for_http(f"{base}/readyz", timeout=30, process=process)
                before = sessions()
                result = run(
                    [python, client, base, str(args.requests), str(args.concurrency)],
                    cwd=project,
                )
                opened = sessions() - before
            finally:
                stop(process)
            figures = json.loads(result.stdout.strip().splitlines()[-1])
            rps.samples.append(figures["rps"])
            p99.samples.append(figures["p99_ms"])
            failed.samples.append(figures["failed"])
            new_sessions.samples.append(opened)
            alone.samples.append(figures["items_alone_p50_ms"])
            during.samples.append(figures["items_during_p50_ms"])
            during_p99.samples.append(figures["items_during_p99_ms"])
            during_livez.samples.append(figures["items_during_livez_p50_ms"])
            ratio.samples.append(
                figures["items_during_p50_ms"] / figures["items_during_livez_p50_ms"]
            )
            out(
                f"round {i + 1}/{args.rounds}: {figures['rps']:,.0f} req/s, p99 "
                f"{figures['p99_ms']:.1f} ms, {figures['failed']} failed, {opened} new sessions, "
                f"GET /items p50 {figures['items_alone_p50_ms']:.1f} -> "
                f"{figures['items_during_p50_ms']:.1f} ms (/livez burst: "
                f"{figures['items_during_livez_p50_ms']:.1f} ms)"
            )
    report(
        "readiness_burst",
        "Readiness burst: 500 /readyz, 100 at a time, on PostgreSQL (served by `serve`)",
        [rps, p99, failed, new_sessions, alone, during, during_p99, during_livez, ratio],
        {"client": "httpx in the project's environment, no keep-alive"},
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
