"""Reliability scenarios (issue 7) against a service generated with the default answers.

Each scenario drives the generated service as a user would: its command line, its HTTP API
and, for the Kafka scenarios, real processes (the service, the mock Kafka cluster in a
process of its own, PostgreSQL behind a TCP proxy we can cut). Nothing here is timed: the
assertions are about outcomes (exit codes, messages, rows, offsets), never durations.

Infrastructure: PostgreSQL from TEST_DATABASE_URL (tests/conftest.py starts the Debian
cluster when it can); the Kafka-protocol broker is librdkafka's mock cluster, started with
the generated service's own Python (its dev group has confluent-kafka).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
MOCK_BROKER = REPO_ROOT / "bench" / "mock_broker.py"


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
def service(tmp_path_factory: pytest.TempPathFactory) -> Service:
    """`copier copy --defaults` of this template, then `uv sync` in the new service."""
    root = tmp_path_factory.mktemp("reliability") / "svc"
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


def _admin_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    if not url or shutil.which("psql") is None:
        return None
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


@pytest.fixture
def database(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh PostgreSQL database for one test; yields its asyncpg URL."""
    admin = _admin_url()
    if admin is None:
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL (and have psql installed)")
    name = "rel_" + re.sub(r"\W", "_", request.node.name).lower()[:40]

    def psql(sql: str) -> None:
        done = _run(["psql", admin, "-qc", sql], cwd=REPO_ROOT)
        assert done.returncode == 0, done.stderr

    psql(f'drop database if exists "{name}" with (force)')
    psql(f'create database "{name}"')
    base = admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    yield f"{base}/{name}"
    psql(f'drop database if exists "{name}" with (force)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - local URL
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None


def eventually(condition: object, within: float, what: str, interval: float = 0.1) -> None:
    """Poll `condition()` until it is true; fail with `what` after `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(interval)
    pytest.fail(f"not within {within} s: {what}")


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

    def wait_live(self, within: float = 60) -> None:
        def live() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited ({self.process.returncode}):\n{self.tail()}")
            return self.status("/livez") == 200

        eventually(live, within, f"/livez answers 200\n{self.tail()}")

    def tail(self, lines: int = 40) -> str:
        self._out.flush()
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, sig: int = signal.SIGTERM, within: float = 60) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(within)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._out.close()
        return self.process.returncode


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
        "database URL without the async driver",
        ["migrate"],
        {"DATABASE_URL": "postgresql://u:s3cr3t@db:5432/app"},
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
def test_schemathesis_finds_no_server_error_and_no_schema_violation(
    service: Service, database: str, tmp_path: Path
) -> None:
    """Property-based requests from the service's own OpenAPI schema, on PostgreSQL.

    Checks: no 5xx (`not_a_server_error`) and every response matches its documented schema
    (`response_schema_conformance`). Seeded, so a failure reproduces; set SCHEMATHESIS_SEED
    to explore other inputs.
    """
    migrated = _run(
        [service.cli, "migrate"], cwd=service.root, env=service.env(DATABASE_URL=database)
    )
    assert migrated.returncode == 0, migrated.stderr
    running = Running(
        service,
        tmp_path / "serve.log",
        DATABASE_URL=database,
        KAFKA_CONSUMER_ENABLED="false",
        LOG_LEVEL="WARNING",
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
            cwd=tmp_path,
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
