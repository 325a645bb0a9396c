"""The FastStream peer of the generated consumer, run by bench/consumer_overhead.py.

Run with a virtual environment holding `faststream[kafka]` and the generated project's
aiokafka version: `python bench/faststream_peer.py --bootstrap HOST:PORT --topic T
--group G --messages N --ack default|ack`. One subscriber with the same typed payload as
the generated consumer's no-op handler (the envelope, validated by pydantic), the same
`max_poll_records`, FastStream's default logging (a line per message at INFO, written to
stderr, which the caller discards), in a fresh consumer group from the earliest offset.

- `--ack default`: FastStream's default acknowledgement (`AckPolicy.ACK_FIRST`: the
  consumer's auto-commit, so a record can be committed before it is handled: at most once);
- `--ack ack`: `AckPolicy.ACK` (commit each message after its handler returned: at least
  once, the generated consumer's guarantee; it commits once per batch).

Prints one JSON object (the same fields as consumer_inner.py's `Clock.result`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from uuid import UUID

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from pydantic import AwareDatetime, BaseModel

MAX_POLL_RECORDS = 100  # consumer_inner.MAX_POLL_RECORDS


class Noop(BaseModel):
    n: int
    pad: str


class Envelope(BaseModel):  # the generated service's envelope, version 1
    version: int = 1
    id: UUID
    type: str
    time: AwareDatetime
    source: str
    correlation_id: str | None = None
    payload: Noop


async def consume(args: argparse.Namespace) -> dict[str, float]:
    broker = KafkaBroker(args.bootstrap)
    done = asyncio.Event()
    count = 0
    first = last = 0.0
    policy = AckPolicy.ACK if args.ack == "ack" else None
    options = {"ack_policy": policy} if policy is not None else {}

    @broker.subscriber(
        args.topic,
        group_id=args.group,
        auto_offset_reset="earliest",
        max_poll_records=MAX_POLL_RECORDS,
        **options,  # type: ignore[arg-type]
    )
    async def handle(event: Envelope) -> None:
        nonlocal count, first, last
        now = time.perf_counter()
        if count == 0:
            first = now
        count += 1
        if count >= args.messages:
            last = now
            done.set()

    started = time.perf_counter()
    async with broker:
        await broker.start()
        await asyncio.wait_for(done.wait(), timeout=600)
    return {
        "steady_seconds": last - first,
        "total_seconds": last - started,
        "first_record_seconds": first - started,
        "records": count,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--ack", choices=["default", "ack"], default="default")
    args = parser.parse_args()
    sys.stdout.write(json.dumps(asyncio.run(consume(args))) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
