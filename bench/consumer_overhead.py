"""Benchmark 2: consumer overhead, generated consumer (no-op handler) vs plain aiokafka.

A service generated without the database (no inbox: this is the consumer's own cost), the
service's dev broker (librdkafka's mock cluster) in a process of its own, N records produced
once; then, alternating in each round, a plain aiokafka loop (`getmany`, then `commit`) and
the generated service's consumer (its `build_app` lifespan with one no-op handler) read all
of them in a fresh consumer group. Throughput is records per second from the first record
handled to the last; the figure is the ratio in each round. Target: >= 85 %.
The generated consumer runs at the production log level (INFO) and at WARNING, to show
what logging costs.

The peer a team would use instead: FastStream (`bench/faststream_peer.py`, in a virtual
environment of its own with the project's aiokafka version) reading the same records with
the same typed payload, once with its default acknowledgement (auto-commit: at most once)
and once with `AckPolicy.ACK` (commit per message after handling: at least once, the
generated consumer's guarantee). Each round runs every contender once, in turn.

Run: UV_PYTHON_DOWNLOADS=never uv run python bench/consumer_overhead.py [--messages 20000]
     [--rounds 3] [--bootstrap HOST:PORT (e.g. Apache Kafka from scripts/kafka_broker.py)]
"""

from __future__ import annotations

import argparse
import json
import uuid
from pathlib import Path

from _common import (
    Figure,
    answers,
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


def inner(python: Path, project: Path, *args: str) -> dict[str, list[dict[str, float]]]:
    done = run([python, HERE / "consumer_inner.py", *args], cwd=project, environ=env())
    result: dict[str, list[dict[str, float]]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def faststream_environment(tmp: Path, python: Path) -> Path:
    """A virtual environment with FastStream and the generated project's aiokafka."""
    code = "import importlib.metadata as m; print(m.version('aiokafka'))"
    aiokafka = run([python, "-c", code]).stdout.strip()
    venv = tmp / "faststream"
    run(["uv", "venv", "--quiet", venv])
    peer = venv / "bin" / "python"
    run(
        [
            "uv",
            "pip",
            "install",
            "--quiet",
            "--python",
            peer,
            "faststream[kafka]",
            f"aiokafka=={aiokafka}",
        ]
    )
    return peer


def faststream(peer: Path, bootstrap: str, messages: int, ack: str) -> dict[str, float]:
    done = run(
        [
            peer,
            HERE / "faststream_peer.py",
            "--bootstrap",
            bootstrap,
            "--topic",
            "bench.noop",
            "--group",
            f"faststream-{ack}-{uuid.uuid4()}",
            "--messages",
            str(messages),
            "--ack",
            ack,
        ]
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bootstrap", help="an existing broker instead of the mock cluster")
    args = parser.parse_args()

    plain = Figure("plain aiokafka getmany + commit", "rec/s")
    plain_json = Figure("plain loop + json.loads per record", "rec/s")
    gen_info = Figure("generated consumer, no-op handler (INFO logs)", "rec/s")
    gen_warn = Figure("generated consumer, no-op handler (WARNING)", "rec/s")
    ratio_info = Figure("ratio generated (INFO) / plain", "%", target=">= 85 %")
    ratio_warn = Figure("ratio generated (WARNING) / plain", "%", target=">= 85 %")
    ratio_json = Figure("ratio generated (WARNING) / plain + json.loads", "%")
    cost_info = Figure("generated cost per record (INFO)", "us")
    cost_warn = Figure("generated cost per record (WARNING)", "us")
    cost_plain = Figure("plain loop cost per record", "us")
    first = Figure("generated: start -> first record", "s")
    fs_default = Figure("FastStream, default ack (auto-commit: at most once)", "rec/s")
    fs_ack = Figure("FastStream, AckPolicy.ACK (at least once)", "rec/s")
    vs_default = Figure("ratio generated (INFO) / FastStream default ack", "x")
    vs_ack = Figure("ratio generated (INFO) / FastStream AckPolicy.ACK", "x")

    with workdir("consumer") as tmp:
        project = generate(tmp / "svc", {"with_database": "false"})
        python = project / ".venv" / "bin" / "python"
        package = answers(project)["package_name"]
        peer = faststream_environment(tmp, python)
        broker = None
        if args.bootstrap:
            bootstrap = args.bootstrap
        else:
            broker, bootstrap = start_mock_broker(python, ["bench.noop"], package=package)
        info: dict[str, list[dict[str, float]]] = {}
        warn: dict[str, list[dict[str, float]]] = {}
        peers: dict[str, list[dict[str, float]]] = {"default": [], "ack": []}
        try:
            common = ["--package", package, "--bootstrap", bootstrap]
            common += ["--messages", str(args.messages), "--rounds", "1"]
            for _ in range(args.rounds):  # each run produces its records, then reads them
                for level, results in (("INFO", info), ("WARNING", warn)):
                    one = inner(python, project, "noop", *common, "--log-level", level)
                    for key, runs in one.items():
                        results.setdefault(key, []).extend(runs)
                for ack in ("default", "ack"):
                    peers[ack].append(faststream(peer, bootstrap, args.messages, ack))
        finally:
            if broker is not None:
                stop(broker)

    def rate(r: dict[str, float]) -> float:
        return (r["records"] - 1) / r["steady_seconds"]

    for i in range(args.rounds):
        p_info, p_warn = rate(info["plain"][i]), rate(warn["plain"][i])
        plain.samples += [p_info, p_warn]
        gen_info.samples.append(rate(info["generated"][i]))
        gen_warn.samples.append(rate(warn["generated"][i]))
        ratio_info.samples.append(100 * gen_info.samples[-1] / p_info)
        ratio_warn.samples.append(100 * gen_warn.samples[-1] / p_warn)
        plain_json.samples.append(rate(warn["plain_json"][i]))
        ratio_json.samples.append(100 * gen_warn.samples[-1] / plain_json.samples[-1])
        cost_info.samples.append(1e6 / gen_info.samples[-1])
        cost_warn.samples.append(1e6 / gen_warn.samples[-1])
        cost_plain.samples.append(1e6 / p_warn)
        first.samples.append(info["generated"][i]["first_record_seconds"])
        fs_default.samples.append(rate(peers["default"][i]))
        fs_ack.samples.append(rate(peers["ack"][i]))
        vs_default.samples.append(gen_info.samples[-1] / fs_default.samples[-1])
        vs_ack.samples.append(gen_info.samples[-1] / fs_ack.samples[-1])
        out(
            f"round {i + 1}: plain {p_info:,.0f}/{p_warn:,.0f} rec/s, generated "
            f"{gen_info.samples[-1]:,.0f} (INFO) / {gen_warn.samples[-1]:,.0f} (WARNING) rec/s, "
            f"FastStream {fs_default.samples[-1]:,.0f} (default) / {fs_ack.samples[-1]:,.0f} "
            "(ACK) rec/s"
        )
    report(
        "consumer_overhead",
        "Benchmark 2: consumer overhead (no-op handler) vs plain aiokafka and FastStream",
        [
            plain,
            plain_json,
            gen_info,
            gen_warn,
            ratio_info,
            ratio_warn,
            ratio_json,
            cost_plain,
            cost_warn,
            cost_info,
            first,
            fs_default,
            fs_ack,
            vs_default,
            vs_ack,
        ],
        {
            "messages": args.messages,
            "max_poll_records": 100,
            "broker": args.bootstrap or "mock cluster",
            "raw": {"info": info, "warn": warn, "faststream": peers},
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
