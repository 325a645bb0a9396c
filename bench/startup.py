"""Benchmark 5: process start to `/livez` passing and to `/readyz` passing.

A generated service (default answers) runs `serve` with PostgreSQL (a fresh database,
migrated) and, when Kafka is switched on, the mock Kafka cluster in a process of its own with
the service's topic already created. Each run starts the process, polls `/livez` and
`/readyz` every 5 ms, then stops it with SIGTERM. Median of N runs with min and max.
For scale, the same table shows a bare `python -c pass` and `import <package>.main`, and
readiness with the consumer disabled (the rest is the consumer joining its group). The broker
is the service's dev broker, which joins a new group at once; Apache Kafka delays a new
group's first rebalance by group.initial.rebalance.delay.ms (3 s by default), which then
adds to readiness.
Target (issue 7): ready within 2 s.

Run: UV_PYTHON_DOWNLOADS=never uv run python bench/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import subprocess
import time

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
    timed,
    wait_for_http,
    workdir,
)


def start_to_ready(
    python: object, package: str, project: object, environ: dict[str, str]
) -> tuple[float, float, float]:
    """Seconds to /livez 200, to /readyz 200, and from SIGTERM to exit 0, of one `serve`."""
    port = environ[next(k for k in environ if k.endswith("_HTTP_PORT"))]
    base = f"http://127.0.0.1:{port}"
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(python), "-m", package, "serve"],
        cwd=str(project),
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Polled every 5 ms: the figures are the times to the first 200.
        wait_for_http(f"{base}/livez", 60, process=process, interval=0.005, request_timeout=0.5)
        live = time.perf_counter() - start
        wait_for_http(f"{base}/readyz", 60, process=process, interval=0.005, request_timeout=0.5)
        ready = time.perf_counter() - start
    except BaseException:
        stop(process)
        raise
    stopping = time.perf_counter()
    process.terminate()
    code = process.wait(30)
    if code != 0:
        raise RuntimeError(f"serve exited with {code} after SIGTERM")
    return live, ready, time.perf_counter() - stopping


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    python_only = Figure("python -c pass", "s")
    imports = Figure("import <package>.main", "s")
    live = Figure("start -> /livez 200", "s")
    ready = Figure("start -> /readyz 200", "s", target="< 2 s")
    ready_no_consumer = Figure("start -> /readyz 200, consumer disabled", "s")
    stop_time = Figure("SIGTERM -> exit 0", "s")

    with workdir("startup") as tmp:
        project = generate(tmp / "svc")
        python = project / ".venv" / "bin" / "python"
        package = answers(project)["package_name"]
        prefix = env_prefix(project)
        with_db, with_kafka = features(project)
        service_env: dict[str, str] = {}
        broker = None
        if with_db:
            service_env[f"{prefix}DATABASE_URL"] = create_database(PG_ADMIN_URL, "bench_startup")
            run([python, "-m", package, "migrate"], cwd=project, environ=env(**service_env))
        if with_kafka:
            topic = f"{answers(project)['service_name']}.events"
            broker, bootstrap = start_mock_broker(python, [topic], package=package)
            service_env[f"{prefix}KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
            service_env[f"{prefix}KAFKA_TOPICS"] = topic
        try:
            for i in range(args.runs):
                python_only.samples.append(timed([python, "-c", "pass"], cwd=project))
                imports.samples.append(timed([python, "-c", f"import {package}.main"], cwd=project))
                if with_kafka:
                    ready_no_consumer.samples.append(
                        start_to_ready(
                            python,
                            package,
                            project,
                            env(
                                **service_env,
                                **{
                                    f"{prefix}HTTP_PORT": str(free_port()),
                                    f"{prefix}KAFKA_CONSUMER_ENABLED": "false",
                                },
                            ),
                        )[1]
                    )
                times = start_to_ready(
                    python,
                    package,
                    project,
                    env(
                        **service_env,
                        **{
                            f"{prefix}HTTP_PORT": str(free_port()),
                            f"{prefix}KAFKA_GROUP_ID": f"bench-{i}",
                        },
                    ),
                )
                live.samples.append(times[0])
                ready.samples.append(times[1])
                stop_time.samples.append(times[2])
                out(
                    f"run {i + 1}/{args.runs}: live {live.samples[-1]:.2f} s, "
                    f"ready {ready.samples[-1]:.2f} s"
                )
        finally:
            if broker is not None:
                stop(broker)

    report(
        "startup",
        "Benchmark 5: startup (process start to /livez and /readyz)",
        [
            python_only,
            imports,
            live,
            ready,
            *([ready_no_consumer] if with_kafka else []),
            stop_time,
        ],
        {
            "database": "PostgreSQL 15 (local)" if with_db else None,
            "broker": "librdkafka mock cluster, own process" if with_kafka else None,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
