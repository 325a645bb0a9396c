"""Every switch combination generates a service that passes its own lint, types, import rules
and test suite (copier.yml's questions and validators: tests/test_copier_config.py)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import env, run

# All four combinations of the two switches: pairwise coverage of the booleans is all of them.
COMBINATIONS = {
    "full": {"with_database": True, "with_kafka": True},
    "database-only": {"with_database": True, "with_kafka": False},
    "kafka-only": {"with_database": False, "with_kafka": True},
    "bare": {"with_database": False, "with_kafka": False},
    # Every valid answer, not only short names: the longest service name (40 characters) and a
    # package-name override of the longest valid length must format and lint the same way.
    "longest-name": {"service_name": "payments-ledger-reconciliation-service-v"},
    "package-override": {"package_name": "ledger_core_payments_reconciliation_svc4"},
}


@pytest.fixture(scope="module", params=list(COMBINATIONS), ids=list(COMBINATIONS))
def service(request: pytest.FixtureRequest, copie_session: Any) -> Path:
    """A generated service for one combination, with its environment synced."""
    answers = {"service_name": f"svc-{request.param}", **COMBINATIONS[request.param]}
    result = copie_session.copy(extra_answers=answers)
    assert result.exit_code == 0, result.exception
    project: Path = result.project_dir
    run(project, "uv", "sync", "--quiet")
    return project


def test_ruff_check_passes(service: Path) -> None:
    run(service, "uv", "run", "--no-sync", "ruff", "check", ".")


def test_ruff_format_passes(service: Path) -> None:
    run(service, "uv", "run", "--no-sync", "ruff", "format", "--check", ".")


def test_mypy_strict_passes(service: Path) -> None:
    result = run(service, "uv", "run", "--no-sync", "mypy")
    assert "Success: no issues found" in result.stdout


def test_import_contracts_are_kept(service: Path) -> None:
    result = run(service, "uv", "run", "--no-sync", "lint-imports")
    assert "0 broken" in result.stdout


def _kafka_ids(output: str) -> set[str]:
    """The brokers the Kafka tests ran on, from pytest's verbose output."""
    return set(re.findall(r"integration/_platform/test_kafka\.py::\w+\[(\w+)\] PASSED", output))


def test_own_test_suite_passes(service: Path, apache_kafka: str | None) -> None:
    """On the PostgreSQL of TEST_DATABASE_URL (Debian's 15 in `.ci/run`), Apache Kafka when
    this machine runs one (tests/conftest.py) and the mock broker: nothing skipped."""
    result = run(service, "uv", "run", "--no-sync", "pytest", "-v", "-p", "no:cacheprovider")
    summary = result.stdout.strip().splitlines()[-1]
    assert " passed" in summary
    assert "skipped" not in summary, summary
    if (service / "tests" / "_platform" / "kafka.py").exists():
        expected = {"apache", "mock"} if apache_kafka else {"mock"}
        assert _kafka_ids(result.stdout) == expected, summary


@pytest.mark.parametrize("service", ["full"], indirect=True)
def test_own_test_suite_passes_with_nothing_configured(service: Path) -> None:
    """As on a laptop with nothing installed: no TEST_* variable, a DOCKER_HOST that does not
    answer. PostgreSQL is the embedded 18, Kafka the mock; nothing is skipped."""
    clean = {k: v for k, v in env().items() if not k.startswith("TEST_")}
    clean["DOCKER_HOST"] = "tcp://127.0.0.1:9"  # nothing listens there
    result = subprocess.run(
        ["uv", "run", "--no-sync", "pytest", "-v", "-p", "no:cacheprovider"],
        cwd=service,
        env=clean,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=900,
        check=False,
    )
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in summary
    assert "skipped" not in summary, summary
    assert "test_items_repository.py" in result.stdout  # the database tests ran
    assert _kafka_ids(result.stdout) == {"mock"}, summary


def test_service_is_a_git_repo_with_a_lock_and_a_first_commit(service: Path) -> None:
    assert (service / "uv.lock").is_file()
    log = run(service, "git", "log", "--oneline").stdout.strip().splitlines()
    assert len(log) == 1
    assert run(service, "git", "status", "--porcelain").stdout.strip() == ""


def test_switched_off_features_leave_nothing_behind(service: Path) -> None:
    answers = yaml.safe_load((service / ".copier-answers.yml").read_text())
    text = "\n".join(
        path.read_text(errors="replace").lower()
        for path in service.rglob("*")
        if path.is_file()
        and not {".git", ".venv", ".mypy_cache", ".ruff_cache"} & set(path.parts)
        and path.name not in {"uv.lock", ".copier-answers.yml"}
    )
    if not answers["with_database"]:
        assert not (service / "migrations").exists()
        assert not (service / "alembic.ini").exists()
        for word in ("sqlalchemy", "alembic", "database_url", "asyncpg", "aiosqlite"):
            assert word not in text, f"{word!r} left behind with with_database=false"
    if not answers["with_kafka"]:
        for word in ("aiokafka", "confluent", "kafka_"):
            assert word not in text, f"{word!r} left behind with with_kafka=false"


def test_newer_python_floor_is_rendered(copie_session: Any) -> None:
    result = copie_session.copy(
        extra_answers={
            "service_name": "svc-py313",
            "python_version": "3.13",
            "with_database": False,
        }
    )
    assert result.exit_code == 0, result.exception
    pyproject = (result.project_dir / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.13"' in pyproject
    assert 'target-version = "py313"' in pyproject
    assert "FROM python:3.13-slim" in (result.project_dir / "Dockerfile").read_text()
