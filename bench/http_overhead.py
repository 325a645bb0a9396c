"""Benchmark 4: HTTP overhead of the generated service's stack on `/livez`.

A generated service (default answers) is served by its own `serve` command; a bare Starlette
app answering the same JSON body with the same content type is served by the same uvicorn
(from the generated project's environment) with the same settings (one worker, no access log
from uvicorn, no server header, lifespan on). `wrk` (Debian package) loads each in turn,
alternating, several rounds; the figure is the ratio of the two in each round (target:
the generated service reaches >= 70 % of the bare app). The service runs with its production
defaults (JSON logs at INFO, so one access log line per request, written to /dev/null), and
again with LOG_LEVEL=WARNING to show what the access log costs.

Run: UV_PYTHON_DOWNLOADS=never uv run python bench/http_overhead.py [--rounds 3] [--duration 10]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import textwrap
import time
import urllib.request
from pathlib import Path

from _common import (
    Figure,
    answers,
    create_database,
    env,
    env_prefix,
    features,
    free_port,
    generate,
    http_status,
    out,
    report,
    run,
    start_broker,
    stop,
    table,
    wait_until,
    workdir,
)

BARE_APP = """\
import json
import os
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

BODY = json.dumps(json.loads(open(sys.argv[2], encoding="utf-8").read())).encode()


async def livez(request):
    return Response(BODY, media_type="application/health+json",
                    headers={"cache-control": "no-store"})


app = Starlette(routes=[Route("/livez", livez)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None, access_log=False,
            server_header=False, lifespan="on")
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wrk(url: str, duration: int, connections: int) -> tuple[float, float, int]:
    """(requests per second, p99 latency in ms, requests completed)."""
    result = run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", url], check=True)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", result.stdout).group(1))  # type: ignore[union-attr]
    p99_match = re.search(r"99%\s+([\d.]+)(us|ms|s)", result.stdout)
    p99 = 0.0
    if p99_match:
        value, unit = float(p99_match.group(1)), p99_match.group(2)
        p99 = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", result.stdout)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} non-2xx responses")
    total = int(re.search(r"(\d+) requests in", result.stdout).group(1))  # type: ignore[union-attr]
    return rps, p99, total


def started(url: str, process: subprocess.Popen[bytes]) -> None:
    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        return http_status(url) == 200

    wait_until(up, timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    bare_rps = Figure("bare Starlette app", "req/s")
    svc_rps = Figure("generated service (INFO, access log)", "req/s")
    quiet_rps = Figure("generated service (LOG_LEVEL=WARNING)", "req/s")
    ratio = Figure("ratio service / bare", "%", target=">= 70 %")
    quiet_ratio = Figure("ratio service (WARNING) / bare", "%")
    p99 = {"bare": Figure("p99 latency bare", "ms"), "svc": Figure("p99 latency service", "ms")}
    cpu_bare = Figure("server CPU per request, bare", "us")
    cpu_svc = Figure("server CPU per request, service (INFO)", "us")
    cpu_ratio = Figure("CPU ratio bare / service (= throughput on an idle core)", "%")

    with workdir("http") as tmp:
        project = generate(tmp / "svc")
        python = project / ".venv" / "bin" / "python"
        prefix = env_prefix(project)
        package = answers(project)["package_name"]
        with_db, with_kafka = features(project)
        service_env = {f"{prefix}LOG_FORMAT": "json"}
        broker = None
        if with_db:
            service_env[f"{prefix}DATABASE_URL"] = create_database("bench_http")
            run([python, "-m", package, "migrate"], cwd=project, environ=env(**service_env))
        if with_kafka:
            broker, bootstrap = start_broker(python)
            service_env[f"{prefix}KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
        script = tmp / "bare_app.py"
        script.write_text(textwrap.dedent(BARE_APP))

        def serve_service(level: str, port: int) -> subprocess.Popen[bytes]:
            environ = env(
                **service_env, **{f"{prefix}HTTP_PORT": str(port), f"{prefix}LOG_LEVEL": level}
            )
            return subprocess.Popen(
                [python, "-m", package, "serve"],
                cwd=project,
                env=environ,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )

        # The body the bare app answers: the service's own /livez body.
        port = free_port()
        process = serve_service("INFO", port)
        try:
            started(f"http://127.0.0.1:{port}/livez", process)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez") as response:
                body = json.loads(response.read())
        finally:
            stop(process)
        (tmp / "body.json").write_text(json.dumps(body))

        def measure(start: subprocess.Popen[bytes], port: int) -> tuple[float, float, float]:
            """(req/s, p99 ms, server CPU microseconds per request)."""
            url = f"http://127.0.0.1:{port}/livez"
            try:
                started(url, start)
                run(["wrk", "-t1", "-c10", "-d2s", url])  # warm-up
                time.sleep(0.2)
                cpu_before = cpu_seconds(start.pid)
                rps, latency, total = wrk(url, args.duration, args.connections)
                cpu = cpu_seconds(start.pid) - cpu_before
                return rps, latency, 1e6 * cpu / total
            finally:
                stop(start)

        for i in range(args.rounds):
            port = free_port()
            bare = measure(
                subprocess.Popen(
                    [python, script, str(port), tmp / "body.json"],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                ),
                port,
            )
            port = free_port()
            svc = measure(serve_service("INFO", port), port)
            port = free_port()
            quiet = measure(serve_service("WARNING", port), port)
            bare_rps.samples.append(bare[0])
            svc_rps.samples.append(svc[0])
            quiet_rps.samples.append(quiet[0])
            ratio.samples.append(100 * svc[0] / bare[0])
            quiet_ratio.samples.append(100 * quiet[0] / bare[0])
            p99["bare"].samples.append(bare[1])
            p99["svc"].samples.append(svc[1])
            cpu_bare.samples.append(bare[2])
            cpu_svc.samples.append(svc[2])
            cpu_ratio.samples.append(100 * bare[2] / svc[2])
            out(
                f"round {i + 1}/{args.rounds}: bare {bare[0]:,.0f} req/s, service "
                f"{svc[0]:,.0f} req/s ({ratio.samples[-1]:.1f} %), WARNING "
                f"{quiet[0]:,.0f} req/s ({quiet_ratio.samples[-1]:.1f} %)"
            )
        if broker is not None:
            stop(broker)
        # Where the time goes: each layer of the stack, in process (no server, no socket).
        layer_run = run(
            [python, Path(__file__).parent / "asgi_layers.py", package, "5"],
            cwd=project,
            environ=env(**service_env),
        )
        layers = json.loads(layer_run.stdout.strip().splitlines()[-1])
        layer_figures = [Figure(name, "us", samples) for name, samples in layers.items()]

    figures = [
        bare_rps,
        svc_rps,
        quiet_rps,
        ratio,
        quiet_ratio,
        cpu_bare,
        cpu_svc,
        cpu_ratio,
        p99["bare"],
        p99["svc"],
    ]
    out()
    out(table("In-process CPU per /livez request, by layer (asgi_layers.py)", layer_figures))
    out()
    report(
        "http_overhead",
        "Benchmark 4: HTTP /livez, generated service vs bare Starlette (wrk)",
        figures,
        {
            "wrk": f"-t1 -c{args.connections} -d{args.duration}s",
            "server": "uvicorn, 1 worker",
            "layers": [f.as_dict() for f in layer_figures],
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
