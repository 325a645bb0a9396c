"""A Kafka-protocol test broker in a process of its own: librdkafka's mock cluster.

Run with a Python that has confluent-kafka (a generated service's venv has it in its dev
group): `python bench/mock_broker.py [--brokers N]`. Prints the bootstrap servers on the
first line of stdout, then serves until SIGTERM/SIGINT. Being its own process, it can be
frozen with SIGSTOP and resumed with SIGCONT (reliability scenario 4), or killed.

This is a protocol-level test broker (see BRIEF section 5), not Apache Kafka.
"""

from __future__ import annotations

import argparse
import signal
import sys

from confluent_kafka import Producer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--brokers", type=int, default=1)
    args = parser.parse_args()
    producer = Producer({"test.mock.num.brokers": args.brokers, "log_level": 0})
    metadata = producer.list_topics(timeout=10)
    bootstrap = ",".join(f"{b.host}:{b.port}" for b in metadata.brokers.values())
    sys.stdout.write(bootstrap + "\n")
    sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        del producer
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
