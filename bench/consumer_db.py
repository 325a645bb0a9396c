"""Benchmark 3: consumer with a database effect, generated vs a plain asyncpg loop.

A service generated with the default answers (database and Kafka), migrated on a fresh
PostgreSQL database; the service's dev broker in a process of its own. In each round the
generated consumer runs the example handler (`item.imported`: create the item through the
repository and unit of work, with the inbox row and the `item.created` outbox row, in one
transaction per event; the relay is off), and a plain loop reads the same kind of records
with aiokafka and does the same three inserts with asyncpg
in one transaction per record (prepared statements), committing offsets per batch. The
generated consumer runs three times: one handler at a time (`KAFKA_MAX_PARTITIONS_IN_FLIGHT=1`,
the default), one per partition of the topic, and one at a time with `pool_pre_ping` off (what
the check before each checkout costs). Records per second from the first record to the last,
every side, and the ratios. With `--profile`,
py-spy samples one extra generated run and the table lists where its time goes.

Run: UV_PYTHON_DOWNLOADS=never uv run python bench/consumer_db.py [--messages 3000] [--profile]
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
from pathlib import Path

from _common import (
    PG_ADMIN_URL,
    Figure,
    answers,
    create_database,
    env,
    generate,
    out,
    report,
    run,
    start_mock_broker,
    stop,
    workdir,
)

HERE = Path(__file__).resolve().parent


CATEGORIES = [  # first match wins, from the innermost frame outwards
    ("logging (structlog / stdlib)", ("structlog", "/logging/", "_platform/logs.py")),
    ("metrics (prometheus_client)", ("prometheus_client",)),
    ("asyncpg driver", ("asyncpg/",)),
    ("SQLAlchemy ORM (session, flush, unit of work)", ("sqlalchemy/orm",)),
    ("SQLAlchemy Core, pool, dialect, greenlet", ("sqlalchemy/", "greenlet")),
    ("DI request scope (dishka)", ("dishka/",)),
    ("validation (pydantic)", ("pydantic",)),
    ("aiokafka", ("aiokafka/",)),
]
# Frames skipped when looking for the deepest library frame of a sample: the event loop and
# the coroutine plumbing sit under every await and say nothing about who is working.
PLUMBING = ("asyncio/", "contextlib.py", "<frozen")


def profile_summary(raw: Path, top: int = 15) -> dict[str, object]:
    """py-spy raw stacks -> CPU share by category and the heaviest frames, counting only
    samples taken while the consumer was handling a record (MessageProcessor.process)."""
    inclusive: collections.Counter[str] = collections.Counter()
    buckets: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any(f.startswith("MessageProcessor.process ") for f in frames):
            continue
        n = int(count)
        total += n
        for frame in set(frames):
            if not frame.startswith("<module>"):
                inclusive[frame] += n
        for frame in reversed(frames):
            if any(p in frame for p in PLUMBING):
                continue
            name = next((c for c, keys in CATEGORIES if any(k in frame for k in keys)), None)
            buckets[name or "the platform's own code and the handler"] += n
            break
    if total == 0:
        return {}
    frames = [
        {"frame": f, "inclusive_pct": round(100 * n / total, 1)}
        for f, n in inclusive.most_common(80)
        if "asyncio/" not in f and "runner.py" not in f and "consumer_inner" not in f
    ]
    return {
        "samples": total,
        "categories": [
            {"category": c, "pct": round(100 * n / total, 1)} for c, n in buckets.most_common()
        ],
        "frames": frames[:top],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="py-spy one generated run")
    args = parser.parse_args()

    plain = Figure("plain asyncpg loop (same inserts, same transactions)", "rec/s")
    generated = Figure("generated consumer, example handler + inbox", "rec/s")
    ratio = Figure("ratio generated / plain", "%")
    in_flight = Figure("generated, one handler per partition in flight", "rec/s")
    in_flight_ratio = Figure("ratio generated in flight / plain", "%")
    no_ping = Figure("generated, pool_pre_ping off (one at a time)", "rec/s")
    no_ping_ratio = Figure("ratio pool_pre_ping off / on", "%")
    extra: dict[str, object] = {"messages": args.messages}

    with workdir("consumer-db") as tmp:
        project = generate(tmp / "svc")
        python = project / ".venv" / "bin" / "python"
        package = answers(project)["package_name"]
        prefix = answers(project)["service_name"].upper().replace("-", "_") + "_"
        url = create_database(PG_ADMIN_URL, "bench_consumer_db")
        run(
            [python, "-m", package, "migrate"],
            cwd=project,
            environ=env(**{f"{prefix}DATABASE_URL": url}),
        )
        broker, bootstrap = start_mock_broker(python, package=package)
        common = [
            "db",
            "--package",
            package,
            "--bootstrap",
            bootstrap,
            "--database-url",
            url,
            "--messages",
            str(args.messages),
            "--log-level",
            "INFO",
        ]
        try:
            done = run(
                [python, HERE / "consumer_inner.py", *common, "--rounds", str(args.rounds)],
                cwd=project,
            )
            results = json.loads(done.stdout.strip().splitlines()[-1])
            if args.profile:
                py_spy = shutil.which("py-spy") or str(Path.home() / ".local/bin/py-spy")
                raw = tmp / "profile.txt"
                spy = subprocess.run(
                    [
                        py_spy,
                        "record",
                        "--format",
                        "raw",
                        "--output",
                        str(raw),
                        "--rate",
                        "250",
                        "--nonblocking",
                        "--",
                        str(python),
                        str(HERE / "consumer_inner.py"),
                        *common,
                        "--rounds",
                        "1",
                        "--only",
                        "generated",
                    ],
                    cwd=project,
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=900,
                )
                if raw.is_file():
                    extra["profile"] = profile_summary(raw)
                else:
                    extra["profile_error"] = spy.stderr[-500:]
        finally:
            stop(broker)

    for i in range(args.rounds):
        p = results["plain"][i]
        g = results["generated"][i]
        plain.samples.append((p["records"] - 1) / p["steady_seconds"])
        generated.samples.append((g["records"] - 1) / g["steady_seconds"])
        ratio.samples.append(100 * generated.samples[-1] / plain.samples[-1])
        f = results["generated-in-flight"][i]
        in_flight.samples.append((f["records"] - 1) / f["steady_seconds"])
        in_flight_ratio.samples.append(100 * in_flight.samples[-1] / plain.samples[-1])
        n = results["generated-no-pre-ping"][i]
        no_ping.samples.append((n["records"] - 1) / n["steady_seconds"])
        no_ping_ratio.samples.append(100 * no_ping.samples[-1] / generated.samples[-1])
        out(
            f"round {i + 1}: plain {plain.samples[-1]:,.0f} rec/s, "
            f"generated {generated.samples[-1]:,.0f} rec/s ({ratio.samples[-1]:.1f} %), "
            f"{f['partitions']} partitions in flight {in_flight.samples[-1]:,.0f} rec/s "
            f"({in_flight_ratio.samples[-1]:.1f} %), pool_pre_ping off "
            f"{no_ping.samples[-1]:,.0f} rec/s ({no_ping_ratio.samples[-1]:.1f} % of on)"
        )
    profile = extra.get("profile")
    if isinstance(profile, dict) and profile:
        out(f"\nGenerated consumer, CPU while handling records ({profile['samples']} samples):")
        for row in profile["categories"]:
            out(f"  {row['pct']:5.1f} %  {row['category']}")
        out("Heaviest frames (inclusive):")
        for row in profile["frames"]:
            out(f"  {row['inclusive_pct']:5.1f} %  {row['frame']}")
        out()
    extra["raw"] = results
    report(
        "consumer_db",
        "Benchmark 3: consumer with database effect (PostgreSQL) vs plain asyncpg",
        [plain, generated, ratio, in_flight, in_flight_ratio, no_ping, no_ping_ratio],
        extra,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
