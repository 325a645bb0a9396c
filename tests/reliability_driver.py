"""Driver for the Kafka reliability scenarios, run with a generated service's Python.

`python tests/reliability_driver.py <command> --package PKG ...` (the generated venv has
aiokafka, asyncpg and the service's own envelope code). Every command prints one JSON
object on its last line of stdout.

- `topics`: creates the topic and its dead-letter topic (`--partitions`, default 4) with the
  admin API, for a broker without automatic topic creation (Apache Kafka as in production);
  `--only main` or `--only dead-letter` creates one of them (a dead-letter topic that does
  not exist yet is one that cannot be written).
- `produce`: a deterministic stream of `item.imported` events: unique good events,
  duplicates (the same business event again: same deterministic id, new envelope time) and
  poison records (in turn: not JSON at all, a valid envelope whose payload fails
  validation, a valid event carrying another event's id, a record just under 1 MiB, a
  record whose header key is not UTF-8). The good events and duplicates are spread over
  every compression codec a producer may choose (none, gzip, snappy, lz4, zstd): they are
  not poison and must be applied like the rest. Prints the plan: the expected names, the
  poison positions, the counts.
- `progress`: committed offsets of a group against the topic's end offsets, and rows.
- `wait`: polls `progress` until the group has committed every offset (or times out).
- `verify`: the final state: item names, inbox rows, dead-letter records and their headers,
  committed and end offsets.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import random
import sys
import time
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.producer import message_accumulator
from aiokafka.producer import producer as producer_module
from aiokafka.record.default_records import _DefaultRecordBatchBuilderPy

EVENT_TYPE = "item.imported"


def out(document: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(document) + "\n")
    sys.stdout.flush()


# not-json: not an envelope; invalid: a payload that fails validation; forged-id: a valid
# event carrying another event's id; oversize: just under the producer's 1 MiB limit, so its
# dead-letter copy (with `dlt.*` headers) must be cut to fit; bad-header: a good envelope
# whose header key is not UTF-8, which aiokafka's consumer cannot decode (its batch fails as
# a whole, so it goes in a batch of its own and the consumer parks a stub for it).
POISON = ("not-json", "invalid", "forged-id", "oversize", "bad-header")
OVERSIZE_BYTES = 1_048_000
# Good events and duplicates go out in turn through one producer per codec.
CODECS = ("none", "gzip", "snappy", "lz4", "zstd")


class NotUtf8(str):
    """A header key that encodes to bytes that are not UTF-8."""

    __slots__ = ()

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return b"\xff\xfe"


async def send_undecodable(producer: AIOKafkaProducer, topic: str, value: bytes, key: bytes) -> Any:
    """Send one record with a header key that is not UTF-8, alone in its batch, and wait for
    it. Only aiokafka's pure-Python batch builder lets a client write such a key (the same
    approach as the generated tests' `produce_undecodable`); `producer` must have nothing
    pending, so the batch holds this record only."""
    modules = (producer_module, message_accumulator)
    builders = [module.DefaultRecordBatchBuilder for module in modules]
    for module in modules:
        module.DefaultRecordBatchBuilder = _DefaultRecordBatchBuilderPy
    try:
        future = await producer.send(topic, value, key=key, headers=[(NotUtf8("k"), b"v")])
        await future
    finally:
        for module, builder in zip(modules, builders, strict=True):
            module.DefaultRecordBatchBuilder = builder
    return future


def plan(
    total: int,
    duplicate_rate: float,
    poison_rate: float,
    seed: int,
    variants: tuple[str, ...] = POISON,
) -> list[dict[str, Any]]:
    """The stream, in order: {"kind": good|duplicate|poison, "name": ..., "poison": ...}."""
    rng = random.Random(seed)  # noqa: S311 - a test plan, not cryptography
    duplicates = round(total * duplicate_rate)
    poison = round(total * poison_rate)
    kinds = ["good"] * (total - duplicates - poison) + ["poison"] * poison
    rng.shuffle(kinds)
    # Duplicates go after at least one good event, so there is something to repeat.
    first_good = kinds.index("good")
    for _ in range(duplicates):
        kinds.insert(rng.randint(first_good + 1, len(kinds)), "duplicate")
    stream: list[dict[str, Any]] = []
    names: list[str] = []
    for i, kind in enumerate(kinds):
        if kind == "good":
            names.append(f"item-{len(names):06d}")
            stream.append({"kind": "good", "name": names[-1]})
        elif kind == "duplicate":
            stream.append({"kind": "duplicate", "name": rng.choice(names)})
        else:
            stream.append({"kind": "poison", "variant": variants[i % len(variants)]})
    return stream


async def topics(args: argparse.Namespace) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=args.bootstrap)
    await admin.start()
    try:
        names = {
            "both": [args.topic, args.topic + args.dlq_suffix],
            "main": [args.topic],
            "dead-letter": [args.topic + args.dlq_suffix],
        }[args.only]
        await admin.create_topics([NewTopic(name, args.partitions, 1) for name in names])
    finally:
        await admin.close()
    out({"created": names, "partitions": args.partitions})


async def produce(args: argparse.Namespace) -> None:
    envelope = importlib.import_module(f"{args.package}._platform.kafka.envelope")
    variants = tuple(args.poison.split(","))
    unknown = set(variants) - set(POISON)
    if unknown:
        raise SystemExit(f"unknown poison variant {sorted(unknown)[0]!r}, expected {POISON}")
    stream = plan(args.total, args.duplicate_rate, args.poison_rate, args.seed, variants)
    producers = {
        codec: AIOKafkaProducer(
            bootstrap_servers=args.bootstrap,
            linger_ms=5,
            max_batch_size=262144,
            acks="all",
            compression_type=codec if codec in CODECS[1:] else None,
        )
        for codec in (*CODECS, "undecodable")
    }
    for producer in producers.values():
        await producer.start()
    codecs = dict.fromkeys(CODECS, 0)
    try:
        futures = []
        for i, item in enumerate(stream):
            producer = producers["none"]
            if item["kind"] == "poison":
                key = f"poison-{i}".encode()
                if item["variant"] == "not-json":
                    value = b"\x00 not an envelope %d" % i
                elif item["variant"] == "oversize":
                    value = (b"\x00 oversize %d " % i).ljust(OVERSIZE_BYTES, b"x")
                elif item["variant"] == "forged-id":
                    genuine = envelope.make_envelope(
                        EVENT_TYPE, {"name": f"forged-{i}", "description": ""}, source="driver"
                    )
                    forged = envelope.make_envelope(
                        EVENT_TYPE, {"name": f"forgery-{i}", "description": ""}, source="driver"
                    )
                    value = envelope.encode(forged.model_copy(update={"id": genuine.id}))
                elif item["variant"] == "bad-header":
                    # A valid event: only its header makes it poison (it is never applied).
                    good = envelope.make_envelope(
                        EVENT_TYPE, {"name": f"undecodable-{i}", "description": ""}, source="driver"
                    )
                    value = envelope.encode(good)
                    futures.append(
                        await send_undecodable(producers["undecodable"], args.topic, value, key)
                    )
                    continue
                else:
                    bad = envelope.make_envelope(
                        EVENT_TYPE, {"name": "", "description": f"poison {i}"}, source="driver"
                    )
                    value = envelope.encode(bad)
            else:
                event = envelope.make_envelope(
                    EVENT_TYPE,
                    {"name": item["name"], "description": "reliability"},
                    source="driver",
                    correlation_id=f"driver-{i}",
                )
                value = envelope.encode(event)
                key = item["name"].encode()
                codec = CODECS[i % len(CODECS)]
                codecs[codec] += 1
                producer = producers[codec]
            futures.append(await producer.send(args.topic, value, key=key))
        for producer in producers.values():
            await producer.flush()
        results = await asyncio.gather(*futures)
    finally:
        for producer in producers.values():
            await producer.stop()
    poison_positions = [
        [r.partition, r.offset]
        for r, item in zip(results, stream, strict=True)
        if item["kind"] == "poison"
    ]
    good = sorted({item["name"] for item in stream if item["kind"] != "poison"})
    out(
        {
            "total": len(stream),
            "good": sum(1 for s in stream if s["kind"] == "good"),
            "duplicates": sum(1 for s in stream if s["kind"] == "duplicate"),
            "poison": len(poison_positions),
            "poison_positions": sorted(poison_positions),
            "poison_variants": {
                v: sum(1 for s in stream if s.get("variant") == v) for v in variants
            },
            "codecs": codecs,
            "names": good,
        }
    )


def _pg(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _offsets(args: argparse.Namespace) -> tuple[dict[int, int], dict[int, int]]:
    """(committed offset per partition for the group, end offset per partition)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=args.bootstrap, group_id=args.group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(args.topic)
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(args.topic) or set()
        tps = [TopicPartition(args.topic, p) for p in sorted(partitions)]
        ends = await consumer.end_offsets(tps)
        committed = {tp.partition: (await consumer.committed(tp)) or 0 for tp in tps}
        return committed, {tp.partition: ends[tp] for tp in tps}
    finally:
        await consumer.stop()


async def _rows(url: str) -> dict[str, int]:
    connection = await asyncpg.connect(_pg(url))
    try:
        return {
            "items": await connection.fetchval("select count(*) from items"),
            "inbox": await connection.fetchval("select count(*) from kafka_inbox"),
        }
    finally:
        await connection.close()


async def progress(args: argparse.Namespace) -> dict[str, Any]:
    committed, ends = await _offsets(args)
    document: dict[str, Any] = {
        "committed": sum(committed.values()),
        "end": sum(ends.values()),
    }
    if args.database_url:
        document.update(await _rows(args.database_url))
    return document


async def wait(args: argparse.Namespace) -> None:
    deadline = time.monotonic() + args.timeout
    last: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            last = await progress(args)
        except Exception as exc:
            last = {"error": f"{type(exc).__name__}: {exc}"}
        if last.get("end") and last.get("committed") == last.get("end"):
            out({"done": True, **last})
            return
        await asyncio.sleep(args.interval)
    out({"done": False, **last})


async def verify(args: argparse.Namespace) -> None:
    committed, ends = await _offsets(args)
    connection = await asyncpg.connect(_pg(args.database_url))
    try:
        names = [r["name"] for r in await connection.fetch("select name from items order by name")]
        inbox = await connection.fetchval("select count(*) from kafka_inbox")
    finally:
        await connection.close()
    dead = []
    consumer = AIOKafkaConsumer(
        args.topic + args.dlq_suffix,
        bootstrap_servers=args.bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assigned = consumer.assignment()
            if assigned:
                end = await consumer.end_offsets(list(assigned))
                positions = {tp: await consumer.position(tp) for tp in assigned}
                if all(positions[tp] >= end[tp] for tp in assigned):
                    break
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    headers = {k: v.decode(errors="replace") for k, v in record.headers}
                    dead.append(
                        [
                            int(headers.get("dlt.original.partition", -1)),
                            int(headers.get("dlt.original.offset", -1)),
                            headers.get("dlt.error.type", ""),
                        ]
                    )
    finally:
        await consumer.stop()
    out(
        {
            "names": names,
            "inbox": inbox,
            "dead_letters": sorted(dead),
            "committed": {str(k): v for k, v in sorted(committed.items())},
            "end": {str(k): v for k, v in sorted(ends.items())},
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("topics", "produce", "progress", "wait", "verify"):
        p = sub.add_parser(name)
        p.add_argument("--package", required=True)
        p.add_argument("--bootstrap", required=True)
        p.add_argument("--topic", required=True)
        p.add_argument("--group", default="")
        p.add_argument("--database-url", default="")
        p.add_argument("--dlq-suffix", default=".dlq")
        p.add_argument("--total", type=int, default=10_000)
        p.add_argument("--duplicate-rate", type=float, default=0.05)
        p.add_argument("--poison-rate", type=float, default=0.01)
        p.add_argument("--seed", type=int, default=7)
        p.add_argument("--poison", default=",".join(POISON), help="poison variants, in turn")
        p.add_argument("--timeout", type=float, default=300)
        p.add_argument("--interval", type=float, default=1.0)
        p.add_argument("--partitions", type=int, default=4)
        p.add_argument("--only", choices=("both", "main", "dead-letter"), default="both")
    args = parser.parse_args()
    if args.command == "topics":
        asyncio.run(topics(args))
    elif args.command == "produce":
        asyncio.run(produce(args))
    elif args.command == "progress":
        out(asyncio.run(progress(args)))
    elif args.command == "wait":
        asyncio.run(wait(args))
    else:
        asyncio.run(verify(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
