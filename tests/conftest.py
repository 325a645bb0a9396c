"""Infrastructure for the template's tests.

Generated services' integration tests need a PostgreSQL URL. It is found in this order:
1. `TEST_DATABASE_URL` in the environment (CI, or your own server);
2. on Debian as root, the packaged cluster started with `pg_ctlcluster` (role and database
   `app`/`app` are created once);
3. otherwise nothing: the generated services' own fixtures then try testcontainers, and skip
   with a message saying what to set when Docker is not there either.
The URL is exported so every generated service's `uv run pytest` sees it. (Without it, the
generated services' own fixtures use testcontainers or an embedded PostgreSQL 18.)

Generated services' Kafka tests run on the mock broker and, where `TEST_KAFKA_BOOTSTRAP_SERVERS`
is set, on that Apache Kafka too. The `apache_kafka` fixture sets it for the tests that run
generated suites: the broker `.ci/run` exported, else one started here with
scripts/kafka_broker.py (tests/kafka_support.py), else (no Java) none, said once in one line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kafka_support import (
    KAFKA_VERSION,
    REQUIRE,
    TEST_KAFKA,
    ApacheKafka,
    why_not_apache_kafka,
)

LOCAL_URL = "postgresql+asyncpg://app:app@127.0.0.1:5432/app"


def _sh(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=120)


def _psql(sql: str) -> subprocess.CompletedProcess[str]:
    return _sh("su", "postgres", "-c", f'psql -v ON_ERROR_STOP=1 -tAc "{sql}"')


def _start_debian_postgres() -> str | None:
    """Start the Debian-packaged cluster (as root) and make sure role and database exist."""
    if os.geteuid() != 0 or shutil.which("pg_ctlcluster") is None:
        return None
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"))
    if not versions:
        return None
    version = versions[-1].parent.parent.name
    if not Path(f"/etc/postgresql/{version}/main").exists():
        _sh("pg_createcluster", version, "main")
    _sh("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start")
    for _ in range(50):
        if _psql("select 1").returncode == 0:
            break
        time.sleep(0.2)
    else:
        return None
    if _psql("select 1 from pg_roles where rolname='app'").stdout.strip() != "1":
        _psql("create role app login superuser password 'app'")
    if _psql("select 1 from pg_database where datname='app'").stdout.strip() != "1":
        _psql("create database app owner app")
    return LOCAL_URL


@pytest.fixture(scope="session", autouse=True)
def database_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL") or _start_debian_postgres()
    if url:
        os.environ["TEST_DATABASE_URL"] = url
    return url


def pytest_report_header(config: pytest.Config) -> str:
    """Which brokers the Kafka tests run on, or why not on Apache Kafka: one line."""
    if os.environ.get(TEST_KAFKA):
        return f"kafka: Apache Kafka at {TEST_KAFKA}={os.environ[TEST_KAFKA]} and the mock broker"
    reason = why_not_apache_kafka()
    if reason is None:
        return f"kafka: Apache Kafka {KAFKA_VERSION} (scripts/kafka_broker.py) and the mock broker"
    return f"kafka: the mock broker only, not Apache Kafka: {reason}"


def say(config: pytest.Config, line: str) -> None:
    """One line in pytest's output, whatever the capture mode."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(line)


@pytest.fixture(scope="session")
def apache_kafka(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """The bootstrap of an Apache Kafka broker for generated suites (exported as
    TEST_KAFKA_BOOTSTRAP_SERVERS), or None when this machine cannot run one."""
    given = os.environ.get(TEST_KAFKA)
    if given:
        yield given
        return
    reason = why_not_apache_kafka()
    if reason is not None:  # the session header said why, once
        if os.environ.get(REQUIRE):
            pytest.fail(f"{REQUIRE} is set, but Apache Kafka cannot run: {reason}")
        yield None
        return
    broker = ApacheKafka()
    say(request.config, f"\nkafka: Apache Kafka {broker.version} started at {broker.bootstrap}")
    os.environ[TEST_KAFKA] = broker.bootstrap
    try:
        yield broker.bootstrap
    finally:
        del os.environ[TEST_KAFKA]
        broker.close()
