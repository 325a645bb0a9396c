"""Apache Kafka for the template's tests: a broker process from scripts/kafka_broker.py.

The template's Kafka tests run on Apache Kafka and on librdkafka's mock broker. Apache Kafka
needs Java; on a machine without it they run on the mock only, and the session says why, once,
in one line (tests/conftest.py). Set `CPS_REQUIRE_APACHE_KAFKA=1` (`.ci/run` does) to make a
broker that cannot be used an error instead of a fallback.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from tests.support import REPO_ROOT, stop

SCRIPT = REPO_ROOT / "scripts" / "kafka_broker.py"
TEST_KAFKA = "TEST_KAFKA_BOOTSTRAP_SERVERS"
REQUIRE = "CPS_REQUIRE_APACHE_KAFKA"


def _script_default_version() -> str:
    found = re.search(r'^DEFAULT_VERSION = "([^"]+)"', SCRIPT.read_text(), re.MULTILINE)
    assert found, "scripts/kafka_broker.py names no DEFAULT_VERSION"
    return found.group(1)


KAFKA_VERSION = os.environ.get("CPS_KAFKA_VERSION") or _script_default_version()


def why_not_apache_kafka() -> str | None:
    """Why this machine cannot run Apache Kafka (None: it can)."""
    if shutil.which("java") is None:
        return "no `java` on PATH (install Java 17+ to run them on Apache Kafka too)"
    return None


class ApacheKafka:
    """A single-node Apache Kafka broker in processes of its own (script and JVM)."""

    def __init__(self, startup_timeout: float = 900) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="cps-kafka-test-"))
        pid_file = self._folder / "broker.pid"
        self.process = subprocess.Popen(
            [sys.executable, str(SCRIPT), "--version", KAFKA_VERSION, "--pid-file", str(pid_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        # A cold jar fetch can take minutes: wait for the first line, but not forever.
        timer = threading.Timer(startup_timeout, self.process.kill)
        timer.start()
        try:
            self.bootstrap = self.process.stdout.readline().strip()
        finally:
            timer.cancel()
        if not self.bootstrap:
            self.process.wait()
            assert self.process.stderr is not None
            error = self.process.stderr.read()[-3000:]
            shutil.rmtree(self._folder, ignore_errors=True)
            raise RuntimeError(f"Apache Kafka {KAFKA_VERSION} did not start:\n{error}")
        self.pid = int(pid_file.read_text())
        self.version = KAFKA_VERSION

    def freeze(self) -> None:
        """The broker stops answering (SIGSTOP), its connections stay open."""
        os.kill(self.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.pid, signal.SIGCONT)

    def close(self) -> None:
        if self.process.poll() is None:
            self.thaw()
        stop(self.process, 60)
        shutil.rmtree(self._folder, ignore_errors=True)
