"""Benchmark 4: served HTTP `GET /livez`, the generated service against its peers.

Contenders, all served by the same uvicorn (the versions of uvicorn, uvloop, httptools,
Starlette and FastAPI in the generated project's lock) with the same settings (one worker,
uvloop and httptools, no uvicorn access log, no server header, lifespan on):

- bare Starlette answering the service's own `/livez` body (`bench/http_peers.py`);
- the stack a team would build by hand instead: FastAPI with asgi-correlation-id and
  prometheus-fastapi-instrumentator (`bench/http_peers.py`; installed in a virtual
  environment of its own next to the same pinned versions);
- the generated service (default answers: PostgreSQL and Kafka on, its `serve` command,
  JSON logs at INFO to /dev/null);
- with `--before REF`, the same service generated from the template at commit REF, so that
  a change is measured before and after in one run.

`wrk` (Debian package) loads each in turn; rounds alternate the order. Figures per round:
requests per second, p99 latency, and server CPU per request (user + system time of the
server process over the requests it answered: on a machine shared with other work this is
steadier than throughput). Ratios are taken within each round; the table gives medians.
Then each app is called in process (no server, no socket) for its own cost per request,
with the service's stack layer by layer (`bench/asgi_layers.py`). With `--profile`, py-spy
samples the served service (and the `--before` one) under wrk and the table says where its
CPU goes.

Targets (issue 15): service >= 35 % of bare Starlette's throughput and >= 1.5 x the
hand-built FastAPI stack's; p99 within 3 x bare Starlette's; in process <= 45 us.

Run: UV_PYTHON_DOWNLOADS=never uv run python bench/http_overhead.py [--rounds 5]
     [--duration 8] [--before e5fe1d3] [--profile]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from _common import (
    PG_ADMIN_URL,
    Figure,
    answers,
    create_database,
    env,
    env_prefix,
    features,
    free_port,
    generate,
    out,
    report,
    run,
    start_mock_broker,
    stop,
    table,
    wait_for_http,
    workdir,
)

HERE = Path(__file__).resolve().parent
PINNED = ("fastapi", "starlette", "uvicorn", "uvloop", "httptools")
PEER_PACKAGES = ("prometheus-fastapi-instrumentator", "asgi-correlation-id")

CATEGORIES = [  # first match wins, from the innermost frame outwards
    ("uvicorn: HTTP parsing, socket writes", ("uvicorn/",)),
    ("FastAPI's own stack", ("fastapi/", "opentelemetry")),
    ("Starlette routing, requests, responses", ("starlette/",)),
    ("DI request scope (dishka)", ("dishka/",)),
    ("metrics (prometheus_client)", ("prometheus_client",)),
    ("logging, correlation id (structlog, logs.py)", ("structlog", "/logging/", "_platform/logs")),
    ("health checks and their JSON", ("_platform/health", "json/", "kafka/runner")),
    ("platform middleware", ("_platform/middleware", "_platform/body_limit", "_platform/app")),
]
PLUMBING = ("asyncio/", "contextlib.py", "<frozen", "_weakrefset", "uuid.py", "enum.py")


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


def versions(python: Path, names: tuple[str, ...]) -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json, sys; "
        "print(json.dumps({n: m.version(n) for n in sys.argv[1:]}))"
    )
    return json.loads(run([python, "-c", code, *names]).stdout)


def peer_environment(tmp: Path, pins: dict[str, str]) -> tuple[Path, dict[str, str]]:
    """A virtual environment with the project's pinned server stack and the peer packages."""
    venv = tmp / "peers"
    run(["uv", "venv", "--quiet", venv])
    python = venv / "bin" / "python"
    requirements = [f"{name}=={version}" for name, version in pins.items()]
    run(["uv", "pip", "install", "--quiet", "--python", python, *requirements, *PEER_PACKAGES])
    return python, versions(python, (*PINNED, *PEER_PACKAGES))


def profile_summary(raw: Path) -> dict[str, object]:
    """py-spy raw stacks -> CPU share by category (deepest non-plumbing frame of a sample)."""
    buckets: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        n = int(count)
        total += n
        for frame in reversed(frames):
            if any(p in frame for p in PLUMBING):
                continue
            name = next((c for c, keys in CATEGORIES if any(k in frame for k in keys)), None)
            buckets[name or "other"] += n
            break
        else:
            buckets["event loop and coroutine plumbing"] += n
    if total == 0:
        return {}
    return {
        "samples": total,
        "categories": [
            {"category": c, "pct": round(100 * n / total, 1)} for c, n in buckets.most_common()
        ],
    }


def profile_served(
    start: Callable[[int], subprocess.Popen[bytes]], tmp: Path, label: str, duration: int
) -> dict[str, object]:
    py_spy = shutil.which("py-spy") or str(Path.home() / ".local/bin/py-spy")
    port = free_port()
    process = start(port)
    url = f"http://127.0.0.1:{port}/livez"
    raw = tmp / f"profile-{label}.txt"
    try:
        wait_for_http(url, 60, process=process)
        load = subprocess.Popen(
            ["wrk", "-t1", "-c50", f"-d{duration + 2}s", url], stdout=subprocess.DEVNULL
        )
        time.sleep(1)
        spy = run(
            [
                py_spy,
                "record",
                "--pid",
                str(process.pid),
                "--duration",
                str(duration),
                "--rate",
                "250",
                "--format",
                "raw",
                "--output",
                raw,
                "--nonblocking",
            ],
            check=False,
        )
        load.wait()
    finally:
        stop(process)
    if not raw.is_file():
        return {"error": spy.stderr[-500:]}
    return profile_summary(raw)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=8, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--before", help="also measure the service generated from this commit")
    parser.add_argument("--profile", action="store_true", help="py-spy the served service")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")

    with workdir("http") as tmp:
        project = generate(tmp / "svc")
        python = project / ".venv" / "bin" / "python"
        prefix = env_prefix(project)
        package = answers(project)["package_name"]
        with_db, with_kafka = features(project)
        before = generate(tmp / "before", vcs_ref=args.before) if args.before else None
        pins = versions(python, PINNED)
        peer_python, peer_versions = peer_environment(tmp, pins)
        service_env = {f"{prefix}LOG_FORMAT": "json"}
        broker = None
        if with_db:
            service_env[f"{prefix}DATABASE_URL"] = create_database(PG_ADMIN_URL, "bench_http")
            run([python, "-m", package, "migrate"], cwd=project, environ=env(**service_env))
        if with_kafka:
            broker, bootstrap = start_mock_broker(python)
            service_env[f"{prefix}KAFKA_BOOTSTRAP_SERVERS"] = bootstrap

        def service(root: Path) -> Callable[[int], subprocess.Popen[bytes]]:
            def start(port: int) -> subprocess.Popen[bytes]:
                environ = env(**service_env, **{f"{prefix}HTTP_PORT": str(port)})
                return subprocess.Popen(
                    [root / ".venv" / "bin" / "python", "-m", package, "serve"],
                    cwd=root,
                    env=environ,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )

            return start

        body = tmp / "body.json"

        def peer(name: str) -> Callable[[int], subprocess.Popen[bytes]]:
            def start(port: int) -> subprocess.Popen[bytes]:
                return subprocess.Popen(
                    [peer_python, HERE / "http_peers.py", "serve", name, str(port), body],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )

            return start

        # The body the peers answer: the service's own /livez body.
        port = free_port()
        process = service(project)(port)
        try:
            wait_for_http(f"http://127.0.0.1:{port}/livez", 60, process=process)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/livez") as response:
                body.write_bytes(response.read())
        finally:
            stop(process)

        contenders: dict[str, Callable[[int], subprocess.Popen[bytes]]] = {
            "bare Starlette": peer("starlette"),
            "hand-built FastAPI stack": peer("fastapi-stack"),
            "generated service": service(project),
        }
        if before is not None:
            contenders[f"generated service at {args.before}"] = service(before)

        def measure(start: Callable[[int], subprocess.Popen[bytes]]) -> tuple[float, ...]:
            """(req/s, p99 ms, server CPU microseconds per request)."""
            port = free_port()
            process = start(port)
            url = f"http://127.0.0.1:{port}/livez"
            try:
                wait_for_http(url, 60, process=process)
                run(["wrk", "-t1", "-c10", "-d2s", url])  # warm-up
                time.sleep(0.2)
                cpu_before = cpu_seconds(process.pid)
                rps, latency, total = wrk(url, args.duration, args.connections)
                cpu = cpu_seconds(process.pid) - cpu_before
                return rps, latency, 1e6 * cpu / total
            finally:
                stop(process)

        names = list(contenders)
        rounds: list[dict[str, tuple[float, ...]]] = []
        for i in range(args.rounds):
            order = names[i % len(names) :] + names[: i % len(names)]  # rotate the order
            measured = {name: measure(contenders[name]) for name in order}
            rounds.append(measured)
            out(
                f"round {i + 1}/{args.rounds}: "
                + ", ".join(
                    f"{name} {m[0]:,.0f} req/s {m[1]:.1f} ms {m[2]:.0f} us"
                    for name, m in measured.items()
                )
            )

        served_profiles: list[dict[str, object]] = []
        if args.profile:
            for label, root in (("after", project), ("before", before)):
                if root is not None:
                    summary = profile_served(service(root), tmp, label, args.duration)
                    served_profiles.append({"label": label, **summary})
        if broker is not None:
            stop(broker)

        # In process: each peer, and the service's stack layer by layer.
        in_process = [
            Figure(
                f"{name} (in process)",
                "us",
                json.loads(
                    run([peer_python, HERE / "http_peers.py", "inproc", app, body, "5"]).stdout
                ),
            )
            for name, app in (("bare Starlette", "starlette"), ("FastAPI stack", "fastapi-stack"))
        ]
        layer_roots = [("", project)] + ([(f" at {args.before}", before)] if before else [])
        for suffix, root in layer_roots:
            layer_run = run(
                [root / ".venv" / "bin" / "python", HERE / "asgi_layers.py", package, "5"],
                cwd=root,
                environ=env(**service_env),
            )
            layers = json.loads(layer_run.stdout.strip().splitlines()[-1])
            if suffix:  # the earlier service: its whole stack only
                layers = {k: v for k, v in layers.items() if k.startswith("service")}
            for name, samples in layers.items():
                target = "<= 45 us" if name.startswith("service") and not suffix else ""
                in_process.append(Figure(f"{name}{suffix}", "us", samples, target=target))

    def series(name: str, index: int) -> list[float]:
        return [r[name][index] for r in rounds]

    bare, stack, svc = names[0], names[1], names[2]
    figures = [Figure(f"{n} (served)", "req/s", series(n, 0)) for n in names]
    figures += [
        Figure(
            "ratio service / bare Starlette",
            "%",
            [100 * r[svc][0] / r[bare][0] for r in rounds],
            target=">= 35 %",
        ),
        Figure(
            "ratio service / hand-built FastAPI stack",
            "x",
            [r[svc][0] / r[stack][0] for r in rounds],
            target=">= 1.5 x",
        ),
        Figure(
            "ratio hand-built FastAPI stack / bare Starlette",
            "%",
            [100 * r[stack][0] / r[bare][0] for r in rounds],
        ),
    ]
    if len(names) > 3:
        old = names[3]
        figures.append(
            Figure(
                f"ratio service at {args.before} / bare Starlette",
                "%",
                [100 * r[old][0] / r[bare][0] for r in rounds],
            )
        )
        figures.append(
            Figure(
                f"ratio service / service at {args.before}",
                "x",
                [r[svc][0] / r[old][0] for r in rounds],
            )
        )
    figures += [Figure(f"server CPU per request, {n}", "us", series(n, 2)) for n in names]
    figures += [Figure(f"p99 latency, {n}", "ms", series(n, 1)) for n in names]
    figures.append(
        Figure(
            "p99 ratio service / bare Starlette",
            "x",
            [r[svc][1] / r[bare][1] for r in rounds],
            target="<= 3 x",
        )
    )
    if len(names) > 3:
        figures.append(
            Figure(
                f"p99 ratio service at {args.before} / bare Starlette",
                "x",
                [r[names[3]][1] / r[bare][1] for r in rounds],
            )
        )
    out()
    out(table("In-process CPU per /livez request (no server)", in_process))
    for profile in served_profiles:
        out(f"\nServed service ({profile['label']}), where the CPU goes:")
        for row in profile.get("categories", []):  # type: ignore[attr-defined]
            out(f"  {row['pct']:5.1f} %  {row['category']}")
    out()
    report(
        "http_overhead",
        "Benchmark 4: served HTTP /livez, generated service vs bare Starlette and a "
        "hand-built FastAPI stack (wrk)",
        figures,
        {
            "wrk": f"-t1 -c{args.connections} -d{args.duration}s",
            "server": "uvicorn, 1 worker, uvloop, httptools, no access log",
            "versions": peer_versions,
            "before": args.before,
            "median_cpu_ratio_bare_service": statistics.median(
                r[bare][2] / r[svc][2] for r in rounds
            ),
            "layers": [f.as_dict() for f in in_process],
            "served_profiles": served_profiles,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
