"""Benchmark 6: wall time of a generated service's full test suite, and per-test costs.

A generated service (default answers) runs `pytest` (unit, integration, contract) against
PostgreSQL (TEST_DATABASE_URL, a fresh database) and the Kafka-protocol broker its fixtures
find (TEST_KAFKA_BOOTSTRAP_SERVERS if set, else librdkafka's mock cluster in process).
Median of N runs with min and max, plus the median duration of one database test and of one
Kafka test (from pytest's JUnit XML: each test's call time, setup and teardown included).
Target (issue 7): full suite under 60 s on this 2-core machine.

Run: UV_PYTHON_DOWNLOADS=never uv run python bench/suite.py [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
import xml.etree.ElementTree as ET

from _common import PG_ADMIN_URL, Figure, create_database, env, generate, out, report, run, workdir

DB_MARKERS = ("database", "items", "migration", "db")
KAFKA_MARKERS = ("kafka", "consumer", "handler", "inbox", "dead_letter", "producer")


def classify(classname: str) -> str:
    """unit / database / kafka / other, from a JUnit classname such as
    `tests.integration._platform.test_kafka` or `tests.unit.test_x.TestClass`."""
    parts = classname.split(".")
    module = next((p for p in parts if p.startswith("test_")), "").lower()
    if "integration" in parts and any(m in module for m in KAFKA_MARKERS):
        return "kafka"
    if "integration" in parts and any(m in module for m in DB_MARKERS):
        return "database"
    if "unit" in parts:
        return "unit"
    return "other"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--allow-failures", action="store_true", help="report the time even if tests fail"
    )
    args = parser.parse_args()

    wall = Figure("full suite wall time (uv run pytest)", "s", target="< 60 s")
    counts: dict[str, list[float]] = {"tests": []}
    per_test: dict[str, list[float]] = {"database": [], "kafka": [], "unit": []}

    with workdir("suite") as tmp:
        project = generate(tmp / "svc")
        url = create_database(PG_ADMIN_URL, "bench_suite").replace("+asyncpg", "")
        for i in range(args.runs):
            junit = tmp / f"junit-{i}.xml"
            start = time.perf_counter()
            result = run(
                [
                    "uv",
                    "run",
                    "--no-sync",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    f"--junitxml={junit}",
                ],
                cwd=project,
                environ=env(TEST_DATABASE_URL=url),
                check=False,
            )
            wall.samples.append(time.perf_counter() - start)
            if result.returncode != 0:
                summary = result.stdout.strip().splitlines()[-1:]
                if not args.allow_failures:
                    out(result.stdout[-3000:])
                    raise SystemExit(f"the generated test suite failed: {summary}")
                out(f"warning: the generated test suite failed: {summary}")
            cases = ET.parse(junit).getroot().iter("testcase")  # noqa: S314 - our own file
            n = 0
            for case in cases:
                n += 1
                if case.find("skipped") is not None:
                    continue
                kind = classify(case.get("classname", ""))
                if kind in per_test:
                    per_test[kind].append(float(case.get("time", "0")))
            counts["tests"].append(n)
            out(f"run {i + 1}/{args.runs}: {wall.samples[-1]:.1f} s, {n} tests")

    figures = [wall]
    labels = {
        "unit": "one unit test (median)",
        "database": "one PostgreSQL integration test (median)",
        "kafka": "one Kafka integration test (median)",
    }
    for kind, label in labels.items():
        if per_test[kind]:
            figures.append(Figure(label, "ms", [1000 * t for t in per_test[kind]]))
    report(
        "suite",
        "Benchmark 6: generated service test suite",
        figures,
        {
            "tests": int(statistics.median(counts["tests"])),
            "per_test_samples": {k: len(v) for k, v in per_test.items()},
            "note": "per-test rows: median/min/max over every test of that kind in all runs",
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
