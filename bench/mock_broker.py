"""A Kafka-protocol test broker in a process of its own: librdkafka's mock cluster.

Run with a generated service's Python (its dev group has confluent-kafka):
`python bench/mock_broker.py [--package PKG] [--topic T ...] [--partitions 4]`.
Prints the bootstrap servers on the first line of stdout, then serves until SIGTERM/SIGINT.
Being its own process, it can be frozen with SIGSTOP and resumed with SIGCONT (reliability
scenario 4), or killed. `--unwritable T` makes the broker refuse topic T as a client
without permission would be refused, until the process gets SIGUSR1 (reliability scenario 7:
a dead-letter topic that cannot be written for a while).

With `--package`, the generated service's own dev broker (`PKG._platform.kafka.devbroker`)
is used: topics are created with the mock's admin call and a new consumer group joins
without the 3 s initial rebalance delay. Without it, a bare confluent-kafka client starts
the mock cluster and topics are auto-created by a metadata request.

This is a protocol-level test broker (see BRIEF section 5), not Apache Kafka.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
from typing import Any

TOPIC_AUTHORIZATION_FAILED = 29  # Kafka's error code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--package", help="generated service package with a dev broker")
    parser.add_argument("--topic", action="append", default=[], help="create first (repeatable)")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument(
        "--unwritable",
        action="append",
        default=[],
        help="refuse this topic (authorisation error) until SIGUSR1 (repeatable; needs --package)",
    )
    args = parser.parse_args()

    keep: Any
    if args.package:
        devbroker = importlib.import_module(f"{args.package}._platform.kafka.devbroker")
        keep = devbroker.MockBroker()
        for topic in args.topic:
            keep.create_topic(topic, args.partitions)
        for topic in args.unwritable:
            keep.set_topic_error(topic, TOPIC_AUTHORIZATION_FAILED)

        def writable(*_: object) -> None:
            for topic in args.unwritable:
                keep.set_topic_error(topic, 0)

        signal.signal(signal.SIGUSR1, writable)
        bootstrap = keep.bootstrap_servers
    else:
        from confluent_kafka import Producer

        keep = Producer({"test.mock.num.brokers": 1, "log_level": 0})
        for topic in args.topic:  # a metadata request for a topic auto-creates it on the mock
            keep.list_topics(topic=topic, timeout=10)
        metadata = keep.list_topics(timeout=10)
        bootstrap = ",".join(f"{b.host}:{b.port}" for b in metadata.brokers.values())
    sys.stdout.write(bootstrap + "\n")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
