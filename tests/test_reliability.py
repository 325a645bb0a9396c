"""Reliability scenarios (issue 7) against a service generated with the default answers.

Each scenario drives the generated service as a user would: its command line, its HTTP API
and, for the Kafka scenarios, real processes (the service, the mock Kafka cluster in a
process of its own, PostgreSQL behind a TCP proxy we can cut). Nothing here is timed: the
assertions are about outcomes (exit codes, messages, rows, offsets), never durations.

Infrastructure: PostgreSQL from TEST_DATABASE_URL (tests/conftest.py starts the Debian
cluster when it can). Each Kafka scenario runs twice, each time on a broker of its own in a
process of its own (so it can be frozen): Apache Kafka (scripts/kafka_broker.py, topics created
with the admin API, automatic creation off) and librdkafka's mock cluster (started with the
generated service's own Python, whose dev group has confluent-kafka). Without Java, on the
mock only (the session header says so).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.kafka_support import ApacheKafka, why_not_apache_kafka
from tests.support import (
    REPO_ROOT,
    admin_url,
    create_database,
    drop_database,
    free_port,
    http_get,
    http_status,
    start_mock_broker,
    stop,
    wait_until,
)

DRIVER = REPO_ROOT / "tests" / "reliability_driver.py"
# Scenario 1 runs the 10,000 events; the fault scenarios (2-4) a shorter stream with
# the same mix, long enough that the fault lands mid-stream. Both can be raised or lowered.
EVENTS = int(os.environ.get("RELIABILITY_EVENTS", "10000"))
FAULT_EVENTS = int(os.environ.get("RELIABILITY_FAULT_EVENTS", "3000"))


# --- the generated service ---------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    root: Path
    name: str
    package: str
    prefix: str

    @property
    def python(self) -> Path:
        return self.root / ".venv" / "bin" / "python"

    @property
    def cli(self) -> Path:
        return self.root / ".venv" / "bin" / self.name

    def env(self, **settings: str) -> dict[str, str]:
        """A clean environment: none of the service's variables but those given."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(self.prefix)}
        base["UV_PYTHON_DOWNLOADS"] = "never"
        return {**base, **{f"{self.prefix}{k}": v for k, v in settings.items()}}


def _run(args: list[str | Path], cwd: Path, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=600,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def workspace() -> Iterator[Path]:
    """A folder of our own: pytest's numbered temporary folders are pruned by other pytest
    sessions on a shared machine, which would remove a service while it runs."""
    path = Path(tempfile.mkdtemp(prefix="cps-reliability-"))
    yield path
    if not os.environ.get("RELIABILITY_KEEP"):  # set it to keep the service and its logs
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def logs(workspace: Path, request: pytest.FixtureRequest) -> Path:
    path = workspace / "logs" / re.sub(r"\W", "_", request.node.name)[:60]
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def service(workspace: Path) -> Service:
    """`copier copy --defaults` of this template, then `uv sync` in the new service."""
    root = workspace / "svc"
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    copied = _run(
        ["copier", "copy", "--trust", "--defaults", "--quiet", REPO_ROOT, root],
        cwd=REPO_ROOT,
        env=env,
    )
    assert copied.returncode == 0, copied.stderr[-3000:]
    synced = _run(["uv", "sync", "--quiet"], cwd=root, env=env)
    assert synced.returncode == 0, synced.stderr[-3000:]
    answers = dict(
        line.split(": ", 1)
        for line in (root / ".copier-answers.yml").read_text().splitlines()
        if ": " in line and not line.startswith("#")
    )
    name = answers["service_name"].strip("'\"")
    return Service(
        root=root,
        name=name,
        package=answers["package_name"].strip("'\""),
        prefix=name.upper().replace("-", "_") + "_",
    )


# --- infrastructure -------------------------------------------------------------------------


@pytest.fixture
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database for one test; yields its asyncpg URL."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url or shutil.which("psql") is None:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL (and have psql installed)")
    admin = admin_url(url)
    name = "rel_" + re.sub(r"\W", "_", request.node.name).lower()[:40]
    yield create_database(admin, name)
    drop_database(admin, name)


class Running:
    """A `serve` process of the generated service, its output in a log file."""

    def __init__(self, service: Service, log: Path, **settings: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._out = log.open("ab")
        self.process = subprocess.Popen(
            [str(service.python), "-m", service.package, "serve"],
            cwd=service.root,
            env=service.env(HTTP_PORT=str(self.port), **settings),
            stdout=self._out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def status(self, path: str) -> int | None:
        return http_status(self.base + path)

    def readiness(self) -> str:
        """The `/readyz` body (the checks' reasons with `READINESS_DETAILS`), or ""."""
        return http_get(self.base + "/readyz")[1]

    def wait_live(self, within: float = 60) -> None:
        def live() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited ({self.process.returncode}):\n{self.tail()}")
            return self.status("/livez") == 200

        wait_until(live, within, f"/livez answers 200\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        self._out.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, sig: int = signal.SIGTERM, within: float = 60) -> int:
        code = stop(self.process, within, sig)
        self._out.close()
        return code


# --- scenario 6: bad input to the CLI and to settings ---------------------------------------

CLI_CASES = [
    # (id, arguments, settings, a fragment the one line must contain)
    ("unknown command", ["frobnicate"], {}, "invalid choice: 'frobnicate'"),
    ("no command", [], {}, "required"),
    ("unknown option", ["serve", "--frobnicate"], {}, "unrecognized arguments"),
    ("database URL not a URL", ["check-config"], {"DATABASE_URL": "not-a-url"}, "DATABASE_URL"),
    (
        "database URL with a bad port",
        ["serve"],
        {"DATABASE_URL": "postgresql+asyncpg://u:s3cr3t@db:port/app"},
        "DATABASE_URL",
    ),
    (
        "database URL with an unsupported driver",
        ["migrate"],
        {"DATABASE_URL": "mysql://u:s3cr3t@db:3306/app"},
        "DATABASE_URL",
    ),
    (
        "bootstrap servers not host:port",
        ["serve"],
        {"KAFKA_BOOTSTRAP_SERVERS": "http://broker"},
        "KAFKA_BOOTSTRAP_SERVERS",
    ),
    ("negative shutdown timeout", ["serve"], {"SHUTDOWN_TIMEOUT_SECONDS": "-1"}, "SHUTDOWN"),
    (
        "negative health check timeout",
        ["check-config"],
        {"HEALTH_CHECK_TIMEOUT_SECONDS": "-0.5"},
        "HEALTH_CHECK_TIMEOUT_SECONDS",
    ),
    (
        "negative Kafka session timeout",
        ["serve"],
        {"KAFKA_SESSION_TIMEOUT_SECONDS": "-3"},
        "KAFKA_SESSION_TIMEOUT_SECONDS",
    ),
    ("empty topic list", ["serve"], {"KAFKA_TOPICS": ""}, "KAFKA_TOPICS"),
    ("topic list of blanks", ["check-config"], {"KAFKA_TOPICS": " , ,"}, "KAFKA_TOPICS"),
    ("port not a number", ["serve"], {"HTTP_PORT": "abc"}, "HTTP_PORT"),
    ("port out of range", ["serve"], {"HTTP_PORT": "70000"}, "HTTP_PORT"),
    ("log level unknown", ["check-config"], {"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
    # Incoherent or loosely written values (issue 13): refused by check-config and serve alike.
    ("infinite shutdown timeout", ["serve"], {"SHUTDOWN_TIMEOUT_SECONDS": "inf"}, "SHUTDOWN"),
    ("port with a separator", ["check-config"], {"HTTP_PORT": "8_080"}, "HTTP_PORT"),
    ("port with a point", ["serve"], {"HTTP_PORT": "8080.0"}, "HTTP_PORT"),
    (
        "backoff start above its maximum",
        ["check-config"],
        {"BACKOFF_INITIAL_SECONDS": "100", "BACKOFF_MAX_SECONDS": "1"},
        "BACKOFF_MAX_SECONDS",
    ),
    (
        "heartbeat not below a third of the session",
        ["serve"],
        {"KAFKA_HEARTBEAT_INTERVAL_SECONDS": "20", "KAFKA_SESSION_TIMEOUT_SECONDS": "5"},
        "KAFKA_HEARTBEAT_INTERVAL_SECONDS",
    ),
    ("topic name with a blank", ["check-config"], {"KAFKA_TOPICS": "a b"}, "KAFKA_TOPICS"),
    ("topic name with a slash", ["serve"], {"KAFKA_TOPICS": "c/d"}, "KAFKA_TOPICS"),
]


@pytest.mark.parametrize(
    ("arguments", "settings", "fragment"),
    [pytest.param(a, s, f, id=i) for i, a, s, f in CLI_CASES],
)
def test_bad_input_gives_one_clear_line_and_a_non_zero_exit(
    service: Service, arguments: list[str], settings: dict[str, str], fragment: str
) -> None:
    needs_kafka = any(k.startswith("KAFKA") for k in settings)
    needs_db = any(k.startswith("DATABASE") for k in settings) or "migrate" in arguments
    if (
        needs_kafka
        and not (service.root / "src" / service.package / "_platform" / "kafka").is_dir()
    ) or (needs_db and not (service.root / "src" / service.package / "_platform" / "db").is_dir()):
        pytest.skip("feature switched off in this generated service")
    done = _run([service.cli, *arguments], cwd=service.root, env=service.env(**settings))
    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert "Traceback" not in output
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{done.stderr}"
    assert fragment in lines[0]
    assert "s3cr3t" not in output, "a password was echoed"


# --- scenario 5: schemathesis against the generated OpenAPI schema --------------------------


@pytest.mark.slow
class _Catalog(BaseHTTPRequestHandler):
    """A stand-in for the seeded `catalog` dependency: a product for ids of odd length, 404
    for the rest, so generated inputs reach both of the route's documented answers."""

    def do_GET(self) -> None:
        product_id = self.path.rsplit("/", 1)[-1]
        if len(product_id) % 2:
            body = json.dumps({"id": product_id, "name": "a product", "price_cents": 100})
            self.send_response(200)
        else:
            body = json.dumps({"detail": "no such product"})
            self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def catalog() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Catalog)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    service: Service, backend: str, catalog: str, logs: Path, request: pytest.FixtureRequest
) -> None:
    """Property-based requests from the service's own OpenAPI schema, on each supported
    database, with the seeded catalog dependency answering on loopback.

    Checks: no 5xx (`not_a_server_error`) and every response matches its documented schema
    (`response_schema_conformance`). Seeded, so a failure reproduces; set SCHEMATHESIS_SEED
    to explore other inputs.
    """
    database = (
        f"sqlite+aiosqlite:///{logs / 'schemathesis.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("database")
    )
    migrated = _run(
        [service.cli, "migrate"], cwd=service.root, env=service.env(DATABASE_URL=database)
    )
    assert migrated.returncode == 0, migrated.stderr
    running = Running(
        service,
        logs / "serve.log",
        DATABASE_URL=database,
        KAFKA_CONSUMER_ENABLED="false",
        LOG_LEVEL="WARNING",
        CATALOG__BASE_URL=catalog,
    )
    try:
        running.wait_live()
        schemathesis = Path(sys.executable).parent / "schemathesis"
        done = _run(
            [
                schemathesis,
                "run",
                f"{running.base}/openapi.json",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--max-examples",
                os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "60"),
                "--seed",
                os.environ.get("SCHEMATHESIS_SEED", "20261122"),
                "--workers",
                "1",
                "--wait-for-schema",
                "30",
            ],
            cwd=logs,
            env={**os.environ, "NO_COLOR": "1"},
        )
    finally:
        running.stop()
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-6000:]
    assert "No issues found" in report, report[-3000:]
    tested = re.search(r"Tested:\s+(\d+)", report)
    assert tested is not None, report[-3000:]
    assert int(tested.group(1)) >= 3, report[-3000:]


# --- Kafka scenarios: infrastructure ---------------------------------------------------------


def _has_kafka_and_db(service: Service) -> bool:
    platform = service.root / "src" / service.package / "_platform"
    return (platform / "kafka").is_dir() and (platform / "db").is_dir()


class MockBroker:
    """The mock Kafka cluster in a process of its own (so it can be frozen or killed)."""

    def __init__(self, service: Service, topics: list[str], unwritable: list[str]) -> None:
        self.process, self.bootstrap = start_mock_broker(
            service.python,
            topics,
            package=service.package,
            unwritable=unwritable,
            cwd=service.root,
        )

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def make_writable(self) -> None:
        """The topics given as `unwritable` accept writes from now on."""
        self.process.send_signal(signal.SIGUSR1)

    def close(self) -> None:
        self.thaw()
        stop(self.process)


class TcpProxy:
    """Forwards a local port to PostgreSQL; `cut()` drops every connection and refuses new
    ones (the database is gone for the service), `restore()` listens again."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._server: asyncio.Server | None = None
        self._streams: set[asyncio.StreamWriter] = set()
        self.restore()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._streams |= {writer, up_writer}
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._streams -= {writer, up_writer}

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(
            self._accept, "127.0.0.1", self.port, reuse_address=True
        )

    async def _cut(self) -> None:
        if self._server is not None:
            self._server.close()
        for stream in list(self._streams):
            stream.transport.abort()
        self._streams.clear()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    def restore(self) -> None:
        self._call(self._listen())

    def cut(self) -> None:
        self._call(self._cut())

    def close(self) -> None:
        self.cut()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


Broker = ApacheKafka | MockBroker
BROKERS = ["apache", "mock"] if why_not_apache_kafka() is None else ["mock"]


@dataclass
class Stream:
    """One scenario's stream: its topic, group, database, broker and the produced plan."""

    service: Service
    broker: Broker
    database: str
    topic: str
    group: str
    plan: dict[str, Any]
    logs: Path

    def driver(self, command: str, *extra: str) -> dict[str, Any]:
        done = _run(
            [
                self.service.python,
                DRIVER,
                command,
                "--package",
                self.service.package,
                "--bootstrap",
                self.broker.bootstrap,
                "--topic",
                self.topic,
                "--group",
                self.group,
                "--database-url",
                self.database,
                *extra,
            ],
            cwd=self.service.root,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        return result

    def open_dead_letter_topic(self) -> None:
        """End an outage of the dead-letter topic: create it (Apache Kafka, where it did not
        exist) or let the mock accept writes to it again."""
        if isinstance(self.broker, MockBroker):
            self.broker.make_writable()
        else:
            self.driver("topics", "--only", "dead-letter")

    def serve(self, database_url: str | None = None, name: str = "serve") -> Running:
        return Running(
            self.service,
            self.logs / f"{name}.log",
            DATABASE_URL=database_url or self.database,
            KAFKA_BOOTSTRAP_SERVERS=self.broker.bootstrap,
            KAFKA_TOPICS=self.topic,
            KAFKA_GROUP_ID=self.group,
            KAFKA_SESSION_TIMEOUT_SECONDS="6",
            KAFKA_HEARTBEAT_INTERVAL_SECONDS="1",
            KAFKA_DEAD_LETTER_TIMEOUT_SECONDS="2",
            # The scenarios count the consumer's effects of the produced plan; the relay would
            # add the seeded handler's `item.created` events to the same topic.
            KAFKA_OUTBOX_RELAY_ENABLED="false",
            READINESS_DETAILS="true",
            LOG_LEVEL="WARNING",
        )

    def items(self) -> int:
        query = ["psql", admin_url(self.database), "-tAc", "select count(*) from items"]
        done = _run(query, cwd=REPO_ROOT)
        return int(done.stdout.strip() or 0) if done.returncode == 0 else 0

    def wait_until_done(self, timeout: float = 600) -> None:
        result = self.driver("wait", "--timeout", str(timeout), "--interval", "1")
        assert result["done"], f"the stream was not fully committed: {result}"

    def assert_final_state(self, *, exact_dead_letters: bool) -> dict[str, Any]:
        final = self.driver("verify")
        expected_names = self.plan["names"]
        # Exactly one effect per unique good event: nothing lost, nothing twice.
        assert len(final["names"]) == len(set(final["names"])), "a duplicate effect"
        missing = sorted(set(expected_names) - set(final["names"]))
        extra = sorted(set(final["names"]) - set(expected_names))
        assert not missing, f"{len(missing)} events lost, e.g. {missing[:5]}"
        assert not extra, f"unexpected effects: {extra[:5]}"
        assert final["inbox"] == len(expected_names)
        # The dead-letter topic holds the poison records, and only them.
        poison = {tuple(p) for p in self.plan["poison_positions"]}
        dead = [(p, o) for p, o, _ in final["dead_letters"]]
        assert set(dead) == poison, (
            f"dead letters differ from the poison records: missing "
            f"{sorted(poison - set(dead))[:5]}, unexpected {sorted(set(dead) - poison)[:5]}"
        )
        if exact_dead_letters:
            assert len(dead) == len(poison), "a poison record was dead-lettered twice"
        # Committed offsets reached the end of every partition.
        assert final["committed"] == final["end"]
        return final


@pytest.fixture(params=BROKERS)
def stream_factory(
    service: Service, database: str, logs: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[int], Stream]]:
    """Migrate the database, start a broker (Apache Kafka or the mock, one per parameter),
    produce a stream of `total` events (with `dead_letters_writable=False`, the dead-letter
    topic refuses writes until `Stream.open_dead_letter_topic()`)."""
    if not _has_kafka_and_db(service):
        pytest.skip("needs a service generated with the database and Kafka")
    brokers: list[Broker] = []

    def make(total: int, *, dead_letters_writable: bool = True) -> Stream:
        migrated = _run(
            [service.cli, "migrate"], cwd=service.root, env=service.env(DATABASE_URL=database)
        )
        assert migrated.returncode == 0, migrated.stderr[-2000:]
        name = re.sub(r"\W", "-", request.node.name)[:40]
        topic = f"rel.{name}"
        broker: Broker
        if request.param == "apache":
            broker = ApacheKafka()
            brokers.append(broker)
            stream = Stream(service, broker, database, topic, f"g-{name}", {}, logs)
            # Automatic topic creation is off, as in production: a dead-letter topic not
            # created yet cannot be written.
            stream.driver("topics", "--only", "both" if dead_letters_writable else "main")
        else:
            unwritable = [] if dead_letters_writable else [topic + ".dlq"]
            broker = MockBroker(service, [topic, topic + ".dlq"], unwritable)
            brokers.append(broker)
            stream = Stream(service, broker, database, topic, f"g-{name}", {}, logs)
        # With a record of about 1 MiB in the stream the mock broker hands out thousands
        # of records fewer than it stored (observed; the cause is not isolated), while the
        # same stream on Apache Kafka is exact: the oversize poison runs there only.
        # The other variants (a header key that is not UTF-8 included) run on both, and
        # the good events go out over every codec on both.
        mock = ["--poison", "not-json,invalid,forged-id,bad-header"]
        poison = [] if request.param == "apache" else mock
        stream.plan = stream.driver("produce", "--total", str(total), *poison)
        assert stream.plan["total"] == total
        assert all(stream.plan["poison_variants"].values()), stream.plan["poison_variants"]
        assert all(stream.plan["codecs"].values()), stream.plan["codecs"]
        return stream

    yield make
    for broker in brokers:
        broker.close()


def readiness_while(running: Running, seconds: float) -> list[int | None]:
    """The /readyz status codes seen, polling for `seconds`."""
    seen: list[int | None] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.append(running.status("/readyz"))
        time.sleep(0.5)
    return seen


# --- scenario 1: duplicates and poison ---------------------------------------------------------


@pytest.mark.slow
def test_a_stream_with_duplicates_and_poison_has_one_effect_per_event(
    stream_factory: Callable[[int], Stream],
) -> None:
    stream = stream_factory(EVENTS)
    assert stream.plan["duplicates"] > 0
    assert stream.plan["poison"] > 0
    running = stream.serve()
    try:
        running.wait_live()
        stream.wait_until_done()
        assert running.status("/readyz") == 200, running.tail()
    finally:
        code = running.stop()
    assert code == 0, running.tail()
    final = stream.assert_final_state(exact_dead_letters=True)
    # Each record with a header key that is not UTF-8 was parked as a stub of its own batch.
    stubs = [d for d in final["dead_letters"] if d[2] == "UnicodeDecodeError"]
    assert len(stubs) == stream.plan["poison_variants"]["bad-header"], final["dead_letters"]


# --- scenario 2: kill -9 mid-stream, then restart -------------------------------------------


@pytest.mark.slow
def test_kill_9_mid_stream_then_restart_loses_nothing_and_doubles_nothing(
    stream_factory: Callable[[int], Stream],
) -> None:
    stream = stream_factory(FAULT_EVENTS)
    target = len(stream.plan["names"]) // 3
    first = stream.serve(name="first")
    try:
        first.wait_live()
        wait_until(lambda: stream.items() >= target, 300, f"{target} items before the kill")
    finally:
        code = first.stop(signal.SIGKILL)
    assert code == -signal.SIGKILL
    assert stream.items() < len(stream.plan["names"]), "the kill came too late to prove anything"
    second = stream.serve(name="second")
    try:
        second.wait_live()
        stream.wait_until_done()
    finally:
        assert second.stop() == 0, second.tail()
    # A poison record dead-lettered just before the kill may be dead-lettered again after
    # the restart (at-least-once); the set of dead letters must still be exactly the poison.
    stream.assert_final_state(exact_dead_letters=False)


# --- scenario 3: the database goes away mid-stream -----------------------------------------


@pytest.mark.slow
def test_database_outage_mid_stream_fails_readiness_and_loses_nothing(
    stream_factory: Callable[[int], Stream],
) -> None:
    stream = stream_factory(FAULT_EVENTS)
    host, port = re.search(r"@([^:/]+):(\d+)/", stream.database).groups()  # type: ignore[union-attr]
    proxy = TcpProxy(host, int(port))
    through_proxy = re.sub(r"@[^/]+/", f"@127.0.0.1:{proxy.port}/", stream.database)
    running = stream.serve(database_url=through_proxy)
    try:
        running.wait_live()
        target = len(stream.plan["names"]) // 5
        wait_until(lambda: stream.items() >= target, 300, f"{target} items before the outage")
        proxy.cut()
        before = stream.items()
        during = readiness_while(running, 8)
        after_outage = stream.items()
        proxy.restore()
        wait_until(lambda: running.status("/readyz") == 200, 60, "ready again after the outage")
        stream.wait_until_done()
        assert running.status("/livez") == 200
    finally:
        code = running.stop()
        proxy.close()
    assert 503 in during, f"readiness never failed while the database was away: {during}"
    assert after_outage == before, "effects were written while the database was away?"
    assert code == 0, running.tail()
    stream.assert_final_state(exact_dead_letters=True)


# --- scenario 4: the broker stops answering mid-stream -------------------------------------


@pytest.mark.slow
def test_frozen_broker_mid_stream_fails_readiness_and_recovers_by_itself(
    stream_factory: Callable[[int], Stream],
) -> None:
    stream = stream_factory(FAULT_EVENTS)
    running = stream.serve()
    try:
        running.wait_live()
        target = len(stream.plan["names"]) // 5
        wait_until(lambda: stream.items() >= target, 300, f"{target} items before the freeze")
        stream.broker.freeze()
        try:
            during = readiness_while(running, 20)
            live_during = running.status("/livez")
        finally:
            stream.broker.thaw()
        stream.wait_until_done()
        wait_until(lambda: running.status("/readyz") == 200, 120, "ready again after the freeze")
    finally:
        code = running.stop()
    assert 503 in during, f"readiness never failed while the broker was frozen: {during}"
    assert live_during == 200, "liveness must not depend on the broker"
    assert code == 0, running.tail()
    # After 20 s without the broker the group session has expired: the commit of the batch
    # in flight fails and its records are redelivered. The inbox drops the good ones; a poison
    # one may be dead-lettered a second time (at-least-once), so the dead letters are compared
    # as a set.
    stream.assert_final_state(exact_dead_letters=False)


# --- scenario 7: the dead-letter topic cannot be written for a while ------------------------


@pytest.mark.slow
def test_an_unwritable_dead_letter_topic_holds_its_partitions_then_all_resume(
    stream_factory: Callable[..., Stream],
) -> None:
    """A poison record that cannot be parked holds back its own partition (never skipped,
    never committed), readiness says which and why while liveness stays up, and once the
    topic accepts writes everything resumes by itself: exact final state."""
    stream = stream_factory(FAULT_EVENTS, dead_letters_writable=False)
    running = stream.serve()
    try:
        running.wait_live()
        wait_until(
            lambda: "held: dead-letter topic" in running.readiness(),
            120,
            f"readiness naming a held partition\n{running.tail()}",
        )
        reason = running.readiness()
        during = readiness_while(running, 5)
        live_during = running.status("/livez")
        progress = stream.driver("progress")
        assert progress["committed"] != progress["end"], "the held records were committed"
        stream.open_dead_letter_topic()
        stream.wait_until_done()
        wait_until(lambda: running.status("/readyz") == 200, 120, "ready again after the outage")
        status, metrics = http_get(running.base + "/metrics", timeout=5)
        assert status == 200, f"/metrics answered {status}"
    finally:
        code = running.stop()
    assert set(during) == {503}, f"readiness passed while a partition was held: {during}"
    assert live_during == 200, "liveness must not depend on the dead-letter topic"
    assert f"{stream.topic}.dlq" in reason, reason
    failures = re.search(
        rf'kafka_consumer_dead_letter_failures_total{{topic="{re.escape(stream.topic)}"}} (\S+)',
        metrics,
    )
    assert failures is not None, "no dead-letter failure series"
    assert float(failures.group(1)) > 0, "failed publishes were not counted"
    assert code == 0, running.tail()
    stream.assert_final_state(exact_dead_letters=True)
