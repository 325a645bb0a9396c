"""Inner part of benchmarks 2 and 3, run with a generated service's Python.

`python bench/consumer_inner.py noop|db --package PKG --bootstrap HOST:PORT ...`; prints one
JSON object (seconds and counts per run) on its last line. The outer scripts
(bench/consumer_overhead.py, bench/consumer_db.py) generate the service, start the broker in
its own process and print the tables.

Both sides of each comparison read the same records from the same broker, start a fresh
consumer group, commit manually after each batch of `max_poll_records` and are timed from
the first record handled to the last (steady state; group join is reported separately).

- noop: the generated service's consumer (its `build_app` lifespan, with a handler registry
  holding one no-op handler) against a plain aiokafka loop (`getmany`, then `commit`).
- db: the generated service's consumer with its example handler (`item.imported` -> create
  the item through the repository and unit of work, with the inbox row, one transaction per
  event) against a plain asyncpg loop doing the same two inserts in one transaction per
  record, then `commit` per batch.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import importlib
import json
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from pydantic import BaseModel

MAX_POLL_RECORDS = 100


class Clock:
    def __init__(self, total: int) -> None:
        self.total = total
        self.count = 0
        self.first = 0.0
        self.last = 0.0
        self.done = asyncio.Event()

    def tick(self, n: int = 1) -> None:
        now = time.perf_counter()
        if self.count == 0:
            self.first = now
        self.count += n
        if self.count >= self.total:
            self.last = now
            self.done.set()

    def result(self, started: float) -> dict[str, float]:
        return {
            "steady_seconds": self.last - self.first,
            "total_seconds": self.last - started,
            "first_record_seconds": self.first - started,
            "records": self.count,
        }


async def produce(bootstrap: str, topic: str, values: list[bytes]) -> int:
    """Send `values` keyed by their index; the number of partitions of `topic`."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await producer.start()
    try:
        futures = [await producer.send(topic, v, key=str(i).encode()) for i, v in enumerate(values)]
        await producer.flush()
        await asyncio.gather(*futures)
        return len(await producer.partitions_for(topic))
    finally:
        await producer.stop()


# --- the plain loops ----------------------------------------------------------------------


async def plain_loop(
    bootstrap: str, topic: str, group: str, total: int, handle: Any = None
) -> dict[str, float]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=MAX_POLL_RECORDS,
    )
    clock = Clock(total)
    started = time.perf_counter()
    await consumer.start()
    try:
        while not clock.done.is_set():
            batches = await consumer.getmany(timeout_ms=1000, max_records=MAX_POLL_RECORDS)
            for records in batches.values():
                for record in records:
                    if handle is not None:
                        await handle(record)
                    clock.tick()
            if batches:
                await consumer.commit()
    finally:
        await consumer.stop()
    return clock.result(started)


# --- the generated service's consumer -------------------------------------------------------


async def generated(
    package: str, settings_overrides: dict[str, Any], total: int, registry_factory: Any
) -> dict[str, float]:
    main = importlib.import_module(f"{package}.main")
    settings_mod = importlib.import_module(f"{package}.settings")
    metrics_mod = importlib.import_module(f"{package}._platform.metrics")
    settings = settings_mod.Settings(_env_file=None, **settings_overrides)
    features = main.FEATURES
    if registry_factory is not None:  # the service's registry, replaced
        kafka_feature = importlib.import_module(f"{package}._platform.kafka.feature")
        features = kafka_feature.with_handlers(features, registry_factory())
    app = main.build_app(settings, features=features)
    metrics = await app.state.dishka_container.get(metrics_mod.Metrics)
    topic = settings.kafka_topics[0]
    clock = Clock(total)

    finished_outcomes = {"success", "duplicate", "dead_lettered", "ignored"}

    def finished() -> int:
        # Only this counter is collected (collecting the whole registry every few
        # milliseconds would read /proc and slow the consumer being measured).
        n = 0.0
        for family in metrics.kafka_messages.collect():
            for sample in family.samples:
                if (
                    sample.name.endswith("_total")
                    and sample.labels.get("topic") == topic
                    and sample.labels.get("outcome") in finished_outcomes
                ):
                    n += sample.value
        return int(n)

    started = time.perf_counter()
    async with app.router.lifespan_context(app):
        seen = 0
        while seen < total:
            await asyncio.sleep(0.005)
            now = finished()
            if now > seen:
                clock.tick(now - seen)
                seen = now
            if time.perf_counter() - started > 600:
                raise TimeoutError(f"only {seen} of {total} records after 600 s")
    return clock.result(started)


# --- benchmark 2: no-op handler ---------------------------------------------------------------


class Noop(BaseModel):
    n: int
    pad: str


async def on_noop(event: Noop) -> None:
    return None


async def noop(args: argparse.Namespace) -> dict[str, Any]:
    envelope = importlib.import_module(f"{args.package}._platform.kafka.envelope")
    registry_mod = importlib.import_module(f"{args.package}._platform.kafka.registry")
    topic = "bench.noop"
    values = [
        envelope.encode(
            envelope.make_envelope("bench.noop", {"n": i, "pad": "x" * 64}, source="bench")
        )
        for i in range(args.messages)
    ]
    await produce(args.bootstrap, topic, values)

    def registry() -> Any:
        r = registry_mod.HandlerRegistry()
        r.add("bench.noop", on_noop)
        return r

    async def json_only(record: Any) -> None:
        json.loads(record.value)

    results: dict[str, list[dict[str, float]]] = {"plain": [], "plain_json": [], "generated": []}
    for i in range(args.rounds):
        results["plain"].append(
            await plain_loop(args.bootstrap, topic, f"plain-{i}-{uuid.uuid4()}", args.messages)
        )
        results["plain_json"].append(
            await plain_loop(
                args.bootstrap, topic, f"json-{i}-{uuid.uuid4()}", args.messages, json_only
            )
        )
        overrides = {
            "kafka_bootstrap_servers": args.bootstrap,
            "kafka_topics": [topic],
            "kafka_group_id": f"generated-{i}-{uuid.uuid4()}",
            "kafka_max_poll_records": MAX_POLL_RECORDS,
            "log_level": args.log_level,
        }
        results["generated"].append(
            await generated(args.package, overrides, args.messages, registry)
        )
    return results


# --- benchmark 3: the example handler on PostgreSQL ------------------------------------------


@contextlib.contextmanager
def _pre_ping(package: str, enabled: bool) -> Iterator[None]:
    """The engine as generated (`pool_pre_ping=True`), or without the check before each
    checkout: what the ping costs per unit of work, measured against the same handler."""
    engine = importlib.import_module(f"{package}._platform.db.engine")
    original = engine.create_async_engine
    if not enabled:
        engine.create_async_engine = functools.partial(_without_pre_ping, original)
    try:
        yield
    finally:
        engine.create_async_engine = original


def _without_pre_ping(create: Any, *args: Any, **kwargs: Any) -> Any:
    kwargs["pool_pre_ping"] = False
    return create(*args, **kwargs)


async def db(args: argparse.Namespace) -> dict[str, Any]:
    import asyncpg

    envelope = importlib.import_module(f"{args.package}._platform.kafka.envelope")
    pg = args.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    sides = ("plain", "generated", "generated-in-flight", "generated-no-pre-ping")
    results: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
    run_id = uuid.uuid4().hex[:8]  # names are unique: a rerun on the same database adds items
    for i in range(args.rounds):
        for side in sides if not args.only else (args.only,):
            topic = f"bench.db.{side}.{i}.{uuid.uuid4().hex[:8]}"
            values = [
                envelope.encode(
                    envelope.make_envelope(
                        "item.imported",
                        {"name": f"{side}-{run_id}-{i}-{n:06d}", "description": "bench"},
                        source="bench",
                    )
                )
                for n in range(args.messages)
            ]
            partitions = await produce(args.bootstrap, topic, values)
            group = f"{side}-{i}-{uuid.uuid4()}"
            if side == "plain":
                connection = await asyncpg.connect(pg)
                insert_inbox = await connection.prepare(
                    "insert into kafka_inbox (consumer, event_id, event_type, received_at)"
                    " values ($1, $2, $3, $4)"
                )
                insert_item = await connection.prepare(
                    "insert into items (name, description, created_at, updated_at)"
                    " values ($1, $2, $3, $3) returning id"
                )
                # The example's `item.created`, written to the outbox in the same transaction.
                insert_outbox = await connection.prepare(
                    "insert into kafka_outbox (event_id, topic, key, event_type, value, created_at)"
                    " values ($1, $2, $3, $4, $5, $6)"
                )

                async def handle(
                    record: Any,
                    g: str = group,
                    c: Any = connection,
                    insert_inbox: Any = insert_inbox,
                    insert_item: Any = insert_item,
                    insert_outbox: Any = insert_outbox,
                    topic: str = topic,
                ) -> None:
                    data = json.loads(record.value)
                    now = datetime.now(UTC)
                    async with c.transaction():
                        await insert_inbox.fetch(g, uuid.UUID(data["id"]), data["type"], now)
                        payload = data["payload"]
                        [row] = await insert_item.fetch(
                            payload["name"], payload["description"], now
                        )
                        created = json.dumps({"id": row["id"], **payload}).encode()
                        key = str(row["id"])
                        await insert_outbox.fetch(
                            uuid.uuid4(), topic, key, "item.created", created, now
                        )

                try:
                    results["plain"].append(
                        await plain_loop(args.bootstrap, topic, group, args.messages, handle)
                    )
                finally:
                    await connection.close()
            else:
                overrides = {
                    "database_url": args.database_url,
                    "kafka_bootstrap_servers": args.bootstrap,
                    "kafka_topics": [topic],
                    "kafka_group_id": group,
                    "kafka_max_poll_records": MAX_POLL_RECORDS,
                    # The outbox rows are written (as the plain loop writes them); relaying
                    # them would add `item.created` records to the measured topic.
                    "kafka_outbox_relay_enabled": False,
                    # One partition's handler at a time, or one per partition of the topic.
                    "kafka_max_partitions_in_flight": (
                        partitions if side == "generated-in-flight" else 1
                    ),
                    "log_level": args.log_level,
                }
                with _pre_ping(args.package, side != "generated-no-pre-ping"):
                    result = await generated(args.package, overrides, args.messages, None)
                results[side].append({**result, "partitions": partitions})
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["noop", "db"])
    parser.add_argument("--package", required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument(
        "--only",
        choices=["plain", "generated", "generated-in-flight", "generated-no-pre-ping"],
        help="db: run one side only",
    )
    args = parser.parse_args()
    logs = importlib.import_module(f"{args.package}._platform.logs")
    logs.configure_logging(args.log_level, "json")
    runner = noop if args.mode == "noop" else db
    results = asyncio.run(runner(args))
    sys.stdout.write(json.dumps(results) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
