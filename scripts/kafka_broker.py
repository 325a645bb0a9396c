"""A single-node Apache Kafka broker for the template's tests and CI (no Docker, no install).

Usage:

    python3 scripts/kafka_broker.py [--version 4.1.1] [--heap 512m] [--data DIR]
    python3 scripts/kafka_broker.py --fetch-only      # fill the jar cache and exit

1. Fetches the broker's jars from Maven Central with Maven (`org.apache.kafka:kafka_2.13` and
   its dependencies, plus slf4j-simple so the broker logs) into
   `~/.cache/copier-python-service/kafka-<version>/libs` (`$CPS_CACHE_DIR` moves the cache).
   First run only: a cache whose `complete` marker names the version and whose `pom.xml` is
   the one this script writes is reused; anything else is fetched again. A lock file keeps
   two concurrent first runs from fetching into the same folder.
2. Formats KRaft storage (`kafka.tools.StorageTool format`) in a fresh data folder (or
   `--data`), then runs `java -cp 'libs/*' kafka.Kafka` as one combined broker and controller
   on two free loopback ports, with automatic topic creation off, internal topics at
   replication factor 1 and the heap bounded (`--heap`). Everything else is a broker default,
   in particular `group.initial.rebalance.delay.ms` (3000 ms): tests must live with it.
3. Prints `127.0.0.1:<port>` (the bootstrap address) on stdout once the broker answers a Kafka
   ApiVersions request, and a one-line summary naming the version on stderr. `--pid-file`
   receives the broker process's pid (to freeze it with SIGSTOP in a test, for example).
4. On SIGTERM or SIGINT stops the broker (SIGTERM, then SIGKILL after 30 s), removes a data
   folder it created, and exits 0. The broker's own log is `<data>/broker.log`; it is printed
   (its end) when the broker does not come up.

Needs Java 17+ (`java`) and, for the first fetch, Maven (`mvn`). Standard library only.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from types import FrameType

DEFAULT_VERSION = "4.1.1"
SLF4J_VERSION = "2.0.17"
STARTUP_SECONDS = 120.0

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.copier-python-service</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>{version}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
      <version>{slf4j}</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-simple</artifactId>
      <version>{slf4j}</version>
    </dependency>
  </dependencies>
</project>
"""


def log(message: str) -> None:
    sys.stderr.write(f"kafka_broker: {message}\n")
    sys.stderr.flush()


def cache_dir(version: str) -> Path:
    base = os.environ.get("CPS_CACHE_DIR") or Path.home() / ".cache" / "copier-python-service"
    return Path(base) / f"kafka-{version}"


def _cache_is_complete(cache: Path, version: str, pom: str) -> bool:
    marker, pom_file, libs = cache / "complete", cache / "pom.xml", cache / "libs"
    return (
        marker.is_file()
        and marker.read_text().strip() == version
        and pom_file.is_file()
        and pom_file.read_text() == pom
        and (libs / f"kafka_2.13-{version}.jar").is_file()
        and (libs / f"kafka-clients-{version}.jar").is_file()
    )


def fetch(version: str) -> Path:
    """The folder of the broker's jars, fetched with Maven unless the cache has them."""
    cache = cache_dir(version)
    cache.mkdir(parents=True, exist_ok=True)
    pom = POM.format(version=version, slf4j=SLF4J_VERSION)
    with (cache / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _cache_is_complete(cache, version, pom):
            return cache / "libs"
        if shutil.which("mvn") is None:
            raise SystemExit(f"kafka_broker: no jar cache in {cache} and no `mvn` to fetch one")
        log(f"fetching Apache Kafka {version} from Maven Central into {cache} (first run)")
        (cache / "complete").unlink(missing_ok=True)
        shutil.rmtree(cache / "libs", ignore_errors=True)
        (cache / "pom.xml").write_text(pom)
        started = time.monotonic()
        done = subprocess.run(
            [
                "mvn",
                "-B",
                "-q",
                "-f",
                str(cache / "pom.xml"),
                "dependency:copy-dependencies",
                "-DincludeScope=runtime",
                f"-DoutputDirectory={cache / 'libs'}",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
            raise SystemExit(f"kafka_broker: mvn exited {done.returncode}")
        (cache / "complete").write_text(version + "\n")
        log(
            f"fetched {len(list((cache / 'libs').glob('*.jar')))} jars in "
            f"{time.monotonic() - started:.0f} s"
        )
    return cache / "libs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answers_api_versions(port: int) -> bool:
    """True when a Kafka broker on the port answers an ApiVersions (v0) request."""
    client = b"kafka_broker.py"
    body = struct.pack(">hhih", 18, 0, 1, len(client)) + client
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = b""
            while len(header) < 10:
                chunk = sock.recv(10 - len(header))
                if not chunk:
                    return False
                header += chunk
    except OSError:
        return False
    _size, correlation_id, error_code = struct.unpack(">iih", header)
    return correlation_id == 1 and error_code == 0


def properties(data: Path, port: int, controller_port: int) -> str:
    values = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@127.0.0.1:{controller_port}",
        "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
        "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "PLAINTEXT",
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "log.dirs": str(data / "logs"),
        "auto.create.topics.enable": "false",
        # One node: internal topics cannot have more replicas than that.
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
    }
    return "".join(f"{key}={value}\n" for key, value in values.items())


def java_command(libs: Path, heap: str, main: str, *args: str) -> list[str]:
    return [
        "java",
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-Djava.awt.headless=true",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
        "-Dorg.slf4j.simpleLogger.showDateTime=true",
        "-cp",
        f"{libs}/*",
        main,
        *args,
    ]


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default=DEFAULT_VERSION, help="Apache Kafka version")
    parser.add_argument("--heap", default="512m", help="JVM heap (-Xms and -Xmx)")
    parser.add_argument("--data", type=Path, help="data folder (default: a fresh temporary one)")
    parser.add_argument("--fetch-only", action="store_true", help="fill the jar cache and exit")
    parser.add_argument(
        "--pid-file", type=Path, help="write the broker's (java's) pid here once it is up"
    )
    args = parser.parse_args()

    if shutil.which("java") is None:
        raise SystemExit("kafka_broker: no `java` on PATH (Java 17+ runs Apache Kafka)")
    libs = fetch(args.version)
    if args.fetch_only:
        log(f"Apache Kafka {args.version} jars in {libs}")
        return 0

    stopping = False

    def stop(_signal: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    own_data = args.data is None
    data = Path(tempfile.mkdtemp(prefix="cps-kafka-")) if own_data else args.data
    data.mkdir(parents=True, exist_ok=True)
    broker_log = data / "broker.log"
    port, controller_port = free_port(), free_port()
    config = data / "server.properties"
    config.write_text(properties(data, port, controller_port))
    process: subprocess.Popen[bytes] | None = None
    try:
        with broker_log.open("ab") as out:
            formatted = subprocess.run(
                java_command(
                    libs,
                    "256m",
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    uuid.uuid4().hex[:22],
                    "-c",
                    str(config),
                    "--ignore-formatted",
                ),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                check=False,
            )
            if formatted.returncode != 0:
                log(f"formatting the storage failed:\n{tail(broker_log)}")
                return 1
            started = time.monotonic()
            process = subprocess.Popen(
                java_command(libs, args.heap, "kafka.Kafka", str(config)),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # a Ctrl-C in the terminal goes to us, not to it
            )
        while not answers_api_versions(port):
            if stopping:
                return 0
            if process.poll() is not None or time.monotonic() - started > STARTUP_SECONDS:
                log(f"the broker did not come up (see {broker_log}):\n{tail(broker_log)}")
                return 1
            time.sleep(0.1)
        if args.pid_file is not None:
            args.pid_file.write_text(f"{process.pid}\n")
        sys.stdout.write(f"127.0.0.1:{port}\n")
        sys.stdout.flush()
        log(
            f"Apache Kafka {args.version} (java -cp {libs}) ready at 127.0.0.1:{port} "
            f"in {time.monotonic() - started:.1f} s; pid {process.pid}, log {broker_log}"
        )
        while not stopping and process.poll() is None:
            time.sleep(0.2)
        if process.poll() is not None and not stopping:
            log(f"the broker exited ({process.returncode}):\n{tail(broker_log)}")
            return 1
        return 0
    finally:
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if own_data:
            shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        raise SystemExit(main())
