"""`copier update` never loses a line: real template versions, a customised service, the fleet.

A temporary git repo is built from this working tree and tagged three times:
- 1.0.0: the working tree, plus a service-owned RUNBOOK.md at the root (the "old layout");
- 1.1.0: real template changes: a platform dependency line changed, a template-owned line
  added to .gitignore, a new template-owned test, seeds of service-owned files changed (which
  must never reach existing services), and RUNBOOK.md moved to docs/runbook.md with a
  `_migrations` entry that moves the team's file (hooks/move_path.py);
- 1.2.0: another template-owned change.
Services are generated with `copier copy --trust` (the post-copy task makes them git repos
with uv.lock and a first commit), changed as a team would, and updated with
`copier update --trust --defaults` without a terminal.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from copier_python_service.fleet.cli import main as fleet
from copier_python_service.project import conflicted_files
from tests.update_support import (
    commit_all,
    copy_working_tree,
    git,
    run,
    tag,
)

V1, V2, V3 = "1.0.0", "1.1.0", "1.2.0"
RUNBOOK = "# Runbook\n\nWhat to do when this service pages you.\n"
MIGRATION = """\
  - version: "1.1.0"
    command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/hooks/move_path.py",
              "RUNBOOK.md", "docs/runbook.md"]
    when: "{{ _stage == 'before' }}"
"""
NEW_PLATFORM_TEST = '''\
# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""Added in template 1.1.0: the service records which template version produced it."""

from pathlib import Path


def test_answers_file_records_the_template_version() -> None:
    answers = Path(__file__).resolve().parents[3] / ".copier-answers.yml"
    assert "_commit:" in answers.read_text(encoding="utf-8")
'''
HANDLER = '''\
"""Team code: react to an order being placed."""


def order_placed(payload: dict[str, object]) -> str:
    return f"order {payload['id']} placed"
'''
REVISION = '''\
"""Team migration: an orders table.

Revision ID: team_0001
Revises: {head}
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "team_0001"
down_revision: str | Sequence[str] | None = "{head}"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )


def downgrade() -> None:
    op.drop_table("orders")
'''
MODEL = '''\
"""Team code: the orders table."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from orders_service._platform.db import Base


class OrderRow(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer: Mapped[str] = mapped_column(String(100))
'''
SETTINGS_FIELD = (
    '\n    # Team setting: where orders are exported.\n    export_bucket: str = "orders"\n'
)
README_SECTION = "\n## On call\n\nPage the orders team in #orders-oncall.\n"
# The four extension points, used only from service-owned files (issue 12).
EXTENSIONS = '''\
"""The orders team's additions to the platform."""

import argparse
import asyncio
import sys

from dishka import AsyncContainer
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orders_service._platform.extensions import Extensions
from orders_service._platform.health import CheckResult

extensions = Extensions()
TICKS: list[int] = []


@extensions.command("count-orders", "Print how many orders there are")
def count_orders(_args: argparse.Namespace) -> int:
    sys.stdout.write("0 orders\\n")
    return 0


@extensions.background("tick")
async def tick(_container: AsyncContainer) -> None:
    while True:
        TICKS.append(len(TICKS))
        await asyncio.sleep(0.01)


@extensions.readiness_check("orders:ledger")
async def ledger() -> CheckResult:
    return CheckResult("pass", observed_value="reconciled")


class Team:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-team", b"orders")]
            await send(message)

        await self.app(scope, receive, tagged)


extensions.middleware.append(Middleware(Team))
'''
EXTENSIONS_TEST = """\
import asyncio

import httpx
import pytest
from fastapi import FastAPI

from orders_service.extensions import TICKS
from orders_service.main import main


def test_the_teams_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["count-orders"]) == 0
    assert capsys.readouterr().out == "0 orders\\n"


async def test_the_teams_task_check_and_middleware(app: FastAPI) -> None:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            while len(TICKS) < 2:
                await asyncio.sleep(0.01)
            response = await client.get("/readyz")
    assert response.headers["x-team"] == "orders"
    assert response.json()["checks"]["orders:ledger"][0]["status"] == "pass"
    assert response.json()["checks"]["background:tick"][0]["status"] == "pass"
"""


BUMPED = ("aiokafka", "confluent-kafka")
_SPEC = r'"{package}(?:\[[a-z0-9,]+\])?>=(?P<version>[0-9.]+)",'


def _bump(pyproject: Path, package: str) -> None:
    text = pyproject.read_text(encoding="utf-8")
    match = re.search(_SPEC.format(package=re.escape(package)), text)
    assert match, f"{package} is not a platform dependency any more: pick another line"
    new = match[0].replace(match["version"], match["version"] + ".0")
    pyproject.write_text(text.replace(match[0], new, 1), encoding="utf-8")


def _bumped(pyproject_text: str, package: str) -> bool:
    match = re.search(_SPEC.format(package=re.escape(package)), pyproject_text)
    return bool(match) and match["version"].endswith(".0") and match["version"].count(".") >= 2


def _alembic_head(versions: Path) -> str:
    """The one revision no other revision revises (the team adds theirs on top of it)."""
    revisions, revised = set(), set()
    for path in versions.glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("revision:"):
                revisions.add(line.split("=")[1].strip().strip('"'))
            elif line.startswith("down_revision:") and "None" not in line.split("=")[1]:
                revised.add(line.split("=")[1].strip().strip('"'))
    heads = revisions - revised
    assert len(heads) == 1, heads
    return heads.pop()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    repo = copy_working_tree(tmp_path_factory.mktemp("tpl") / "copier-python-service")
    copier_yml = repo / "copier.yml"
    # 1.0.0: the old layout, with a seeded (service-owned) RUNBOOK.md at the root.
    (repo / "template" / "RUNBOOK.md").write_text(RUNBOOK)
    _edit(copier_yml, "_skip_if_exists:\n", "_skip_if_exists:\n  - RUNBOOK.md\n")
    commit_all(repo, "1.0.0")
    tag(repo, V1)
    # 1.1.0: real changes.
    pyproject = repo / "template" / "pyproject.toml.jinja"
    # platform lines next to the team's, in both dependency lists (same meaning, new text)
    for package in BUMPED:
        _bump(pyproject, package)
    _append(repo / "template" / ".gitignore", ".coverage\n")
    new_test = repo / "template" / "tests" / "unit" / "_platform" / "test_template_version.py"
    new_test.write_text(NEW_PLATFORM_TEST)
    # an existing platform test under a service-owned folder (the `!tests/*/_platform/**` rule)
    _append(new_test.parent / "test_errors.py.jinja", "# changed in 1.1.0\n")
    _append(repo / "template" / "src" / "{{package_name}}" / "settings.py.jinja", "# seed 1.1\n")
    _append(repo / "template" / "README.md.jinja", "\nSeed text added in 1.1.0.\n")
    # the composition root and the seed of the extensions change too
    _append(repo / "template" / "src" / "{{package_name}}" / "main.py.jinja", "# root 1.1\n")
    _append(repo / "template" / "src" / "{{package_name}}" / "extensions.py.jinja", "# 1.1\n")
    (repo / "template" / "docs").mkdir(exist_ok=True)
    (repo / "template" / "RUNBOOK.md").rename(repo / "template" / "docs" / "runbook.md")
    _edit(copier_yml, "  - RUNBOOK.md\n", "  - docs/runbook.md\n")
    _edit(copier_yml, "_migrations:\n", "_migrations:\n" + MIGRATION)
    commit_all(repo, "1.1.0")
    tag(repo, V2)
    # 1.2.0
    _append(repo / "template" / ".gitignore", "htmlcov/\n")
    commit_all(repo, "1.2.0")
    tag(repo, V3)
    return repo


def copier(cwd: Path, *args: str) -> str:
    result = run(cwd, sys.executable, "-m", "copier", *args)
    return result.stdout + result.stderr


def generate(template: Path, dst: Path, version: str, **answers: object) -> Path:
    data = [
        f"--data={key}={value if isinstance(value, str) else json.dumps(value)}"
        for key, value in answers.items()
    ]
    dst.parent.mkdir(parents=True, exist_ok=True)
    copier(dst.parent, "copy", "--trust", "--defaults", "--vcs-ref", version, *data,
           str(template), str(dst))  # fmt: skip
    assert git(dst, "status", "--porcelain") == "", "post-copy task left the tree dirty"
    return dst


def _sync(service: Path) -> None:
    """`uv sync --locked`, offline when the cache is warm."""
    if run(service, "uv", "sync", "--offline", "--locked", check=False).returncode != 0:
        run(service, "uv", "sync", "--locked")


def answers(service: Path) -> dict[str, object]:
    loaded = yaml.safe_load((service / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def tree(root: Path) -> dict[str, bytes]:
    skip = {".git", ".venv", "uv.lock", "__pycache__"}
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not skip & set(path.relative_to(root).parts)
    }


# ---------------------------------------------------------------- the customised service


@pytest.fixture(scope="session")
def customised(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    service = generate(template, tmp_path_factory.mktemp("svc") / "orders-service", V1,
                       service_name="orders-service")  # fmt: skip
    pkg = service / "src" / "orders_service"
    _sync(service)
    (pkg / "handlers" / "orders.py").write_text(HANDLER)
    (pkg / "repositories" / "orders.py").write_text(MODEL)
    versions = service / "migrations" / "versions"
    revision = REVISION.replace("{head}", _alembic_head(versions))
    (versions / "team_0001_add_orders.py").write_text(revision)
    (service.parent / "revision.py").write_text(revision)
    run(service, "uv", "add", "--no-sync", "idna")
    run(service, "uv", "add", "--no-sync", "--dev", "iniconfig")
    _append(pkg / "settings.py", SETTINGS_FIELD)
    (pkg / "extensions.py").write_text(EXTENSIONS)
    (service / "tests" / "unit" / "test_extensions.py").write_text(EXTENSIONS_TEST)
    # as the platform's contract test asks: the README's settings table follows the class
    run(service, "uv", "run", "--offline", "python", "-m",
        "orders_service._platform.settings_docs", "--write", "README.md")  # fmt: skip
    _append(service / "README.md", README_SECTION)
    _edit(service / "RUNBOOK.md", "What to do", "What the orders team does")
    (service / "compose.yaml").unlink()  # this team does not use compose
    (service / "tests" / "integration" / "test_items_api.py").unlink()  # nor this example test
    commit_all(service, "Team changes")
    output = copier(service, "update", "--trust", "--defaults", "--vcs-ref", V2)
    (service.parent / "update-output.txt").write_text(output)
    return service


def test_post_copy_made_a_git_repo_with_lock_and_one_commit(template: Path, tmp_path: Path) -> None:
    service = generate(template, tmp_path / "fresh", V3, with_kafka=False)
    assert (service / "uv.lock").is_file()
    log = git(service, "log", "--format=%s").splitlines()
    assert log == [f"Generate service from copier-python-service {V3}"]
    assert git(service, "ls-files", "uv.lock").strip() == "uv.lock"


def test_post_copy_task_is_idempotent_under_recopy(template: Path, tmp_path: Path) -> None:
    service = generate(template, tmp_path / "again", V3, with_database=False, with_kafka=False)
    copier(service, "recopy", "--trust", "--defaults", "--overwrite")
    assert len(git(service, "log", "--format=%h").splitlines()) == 1
    assert git(service, "status", "--porcelain") == ""


def test_post_copy_task_respects_an_enclosing_repository(template: Path, tmp_path: Path) -> None:
    mono = tmp_path / "monorepo"
    mono.mkdir()
    git(mono, "init", "--quiet", "--initial-branch=main")
    commit_all(mono, "monorepo root")
    dst = mono / "services" / "inner"
    dst.parent.mkdir()
    copier(dst.parent, "copy", "--trust", "--defaults", "--data", "with_kafka=false",
           "--vcs-ref", V3, str(template), str(dst))  # fmt: skip
    assert not (dst / ".git").exists()
    assert (dst / "uv.lock").is_file()
    assert len(git(mono, "log", "--format=%h").splitlines()) == 1  # no commit on the team's behalf


def test_update_leaves_no_conflict_and_no_rej(customised: Path) -> None:
    assert conflicted_files(customised, committed=True) == [], (
        customised.parent / "update-output.txt"
    ).read_text()
    assert git(customised, "diff", "--name-only", "--diff-filter=U") == ""


def test_update_keeps_every_customisation(customised: Path) -> None:
    pkg = customised / "src" / "orders_service"
    assert (pkg / "handlers" / "orders.py").read_text() == HANDLER
    assert (pkg / "repositories" / "orders.py").read_text() == MODEL
    revision = (customised.parent / "revision.py").read_text()
    assert (
        customised / "migrations" / "versions" / "team_0001_add_orders.py"
    ).read_text() == revision
    pyproject = (customised / "pyproject.toml").read_text()
    assert '"idna>=' in pyproject
    assert '"iniconfig>=' in pyproject
    assert 'name = "idna"' in (customised / "uv.lock").read_text()
    assert (pkg / "extensions.py").read_text() == EXTENSIONS
    settings = (pkg / "settings.py").read_text()
    assert settings.endswith(SETTINGS_FIELD)
    assert "# seed 1.1" not in settings  # seeds of service-owned files never come back
    readme = (customised / "README.md").read_text()
    assert readme.endswith(README_SECTION)
    assert "EXPORT_BUCKET" in readme
    assert "Seed text added in 1.1.0." not in readme
    assert not (customised / "compose.yaml").exists()  # deleted on purpose, stays deleted
    assert not (customised / "tests" / "integration" / "test_items_api.py").exists()  # a seed too


def test_update_applies_the_template_changes(customised: Path) -> None:
    pyproject = (customised / "pyproject.toml").read_text()
    assert all(_bumped(pyproject, package) for package in BUMPED), pyproject
    assert ".coverage" in (customised / ".gitignore").read_text()
    main_py = customised / "src" / "orders_service" / "main.py"
    assert main_py.read_text().endswith("# root 1.1\n")
    platform_tests = customised / "tests" / "unit" / "_platform"
    assert (platform_tests / "test_template_version.py").is_file()
    assert (platform_tests / "test_errors.py").read_text().endswith("# changed in 1.1.0\n")
    assert answers(customised)["_commit"] == V2


def test_migration_moved_the_teams_runbook(customised: Path) -> None:
    assert not (customised / "RUNBOOK.md").exists()
    assert "What the orders team does" in (customised / "docs" / "runbook.md").read_text()


def test_lock_file_was_refreshed_after_the_update(customised: Path) -> None:
    run(customised, "uv", "lock", "--check", "--offline")


def test_drift_check_reports_only_the_deleted_template_file(customised: Path) -> None:
    result = run(customised, "uv", "run", "scripts/template_drift.py", check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.splitlines()[1:] == ["  missing compose.yaml"]


def test_updated_service_tests_pass(customised: Path, apache_kafka: str | None) -> None:
    _sync(customised)
    result = run(customised, "uv", "run", "--offline", "pytest", "-q", "-p", "no:cacheprovider")
    assert "passed" in result.stdout
    # the team's extensions (command, task, check, middleware) work after the update
    extensions = run(customised, "uv", "run", "--offline", "pytest", "-q", "-p",
                     "no:cacheprovider", "tests/unit/test_extensions.py")  # fmt: skip
    assert "2 passed" in extensions.stdout, extensions.stdout


# ---------------------------------------------------------------- plain updates, conflicts


def test_uncustomised_update_equals_a_fresh_copy(template: Path, tmp_path: Path) -> None:
    chosen = {"service_name": "plain-svc", "with_kafka": False, "http_port": 8081}
    updated = generate(template, tmp_path / "updated" / "plain-svc", V1, **chosen)
    copier(updated, "update", "--trust", "--defaults")  # no --vcs-ref: the newest release
    fresh = generate(template, tmp_path / "fresh" / "plain-svc", V3, **chosen)
    assert answers(updated)["_commit"] == V3
    updated_tree, fresh_tree = tree(updated), tree(fresh)
    assert sorted(updated_tree) == sorted(fresh_tree)
    differ = [name for name in fresh_tree if updated_tree[name] != fresh_tree[name]]
    # Equal everywhere but in the three service-owned seeds that 1.1.0 changed: by design a
    # seed is written once and then belongs to the team, even when the team never edited it.
    assert differ == ["README.md", "src/plain_svc/extensions.py", "src/plain_svc/settings.py"]


def test_real_conflict_is_listed_and_refused_by_the_installed_hook(
    template: Path, tmp_path: Path
) -> None:
    service = generate(template, tmp_path / "clash", V1, with_database=False, with_kafka=False)
    _append(service / ".gitignore", "*.log\n")  # the template appends .coverage at the same place
    commit_all(service, "Ignore logs")
    output = copier(service, "update", "--trust", "--defaults", "--vcs-ref", V2)
    assert conflicted_files(service, committed=True) == [".gitignore"]
    text = (service / ".gitignore").read_text()
    assert "<<<<<<< before updating" in text
    assert "*.log" in text
    assert ".coverage" in text
    # The update ends by listing every conflicted file and what to do.
    summary = output[output.index("the update left conflicts in:") :]
    assert summary.splitlines()[1] == "  .gitignore", output[-2000:]
    assert "Resolve each one" in summary
    # The git hook the post-copy step installed refuses `git commit -a` with the markers ...
    refused = run(service, "git", "commit", "-a", "-m", "markers", check=False)
    assert refused.returncode != 0, refused.stdout + refused.stderr
    assert "no conflict markers" in refused.stdout + refused.stderr
    assert ".gitignore:" in refused.stdout + refused.stderr
    # ... and lets the resolved file through (the twin: the hook does not refuse everything).
    resolved = [line for line in text.splitlines() if not line.startswith(("<<<<<<<", "=======",
                ">>>>>>>"))]  # fmt: skip
    (service / ".gitignore").write_text("\n".join(resolved) + "\n")
    accepted = run(service, "git", "commit", "-a", "-m", "Resolve .gitignore", check=False)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert conflicted_files(service, committed=True) == []


def test_rejected_hunks_are_listed_too(template: Path, tmp_path: Path) -> None:
    service = generate(template, tmp_path / "rej", V1, with_database=False, with_kafka=False)
    _append(service / ".gitignore", "*.log\n")
    commit_all(service, "Ignore logs")
    output = copier(service, "update", "--trust", "--defaults", "--conflict", "rej",
                    "--vcs-ref", V2)  # fmt: skip
    assert conflicted_files(service, committed=True) == [".gitignore.rej"]
    assert "  .gitignore.rej" in output[output.index("the update left conflicts in:") :]


def test_a_relative_copy_updates_drift_checks_and_fleet_updates_from_inside(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`copier copy ./copier-python-service svc`: the README's local form, run in a shell."""
    work = tmp_path / "work"
    work.mkdir()
    git(work, "clone", "--quiet", str(template), "copier-python-service")
    shell = f"cd {work} && {sys.executable} -m copier copy --trust --defaults --vcs-ref {V2} "
    run(work, "bash", "-c", shell + "--data with_kafka=false ./copier-python-service svc")
    service = work / "svc"
    assert answers(service)["_src_path"] == str(work / "copier-python-service")
    assert git(service, "status", "--porcelain") == ""
    fresh = run(service, "uv", "run", "scripts/template_drift.py", check=False)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr  # the rewritten line is Copier's
    # From inside the service: copier update, the drift check and the fleet tool.
    copier(service, "update", "--trust", "--defaults", "--vcs-ref", V3)
    assert answers(service)["_commit"] == V3
    drift = run(service, "uv", "run", "scripts/template_drift.py", check=False)
    assert drift.returncode == 0, drift.stdout + drift.stderr
    git(service, "reset", "--quiet", "--hard")
    git(service, "clean", "--quiet", "-fd")
    assert fleet(["update", str(service), "--all"]) == 0
    assert "updated cleanly" in capsys.readouterr().out
    # A service that recorded the relative path (copied before this fix) is told the fix.
    answers_file = service / ".copier-answers.yml"
    relative = re.sub(r"(?m)^_src_path: .*$", "_src_path: ./copier-python-service",
                      answers_file.read_text())  # fmt: skip
    answers_file.write_text(relative)
    broken = run(service, "uv", "run", "scripts/template_drift.py", check=False)
    assert broken.returncode == 2
    line = broken.stderr.strip()
    assert "records the template source './copier-python-service'" in line
    assert line.count("\n") == 0
    fix = line.split("fix: ", 1)[1]
    assert fix == (f"uvx --from {work / 'copier-python-service'} cps-fleet set-source "
                   f"{service} {work / 'copier-python-service'}")  # fmt: skip
    assert fleet(["set-source", str(service), str(work / "copier-python-service")]) == 0
    fixed = run(service, "uv", "run", "scripts/template_drift.py", check=False)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr


def test_preview_lists_exactly_what_the_update_changes(
    template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    service = generate(template, tmp_path / "fleet" / "preview-svc", V1,
                       service_name="preview-svc", with_kafka=False)  # fmt: skip
    _append(service / ".gitignore", "*.log\n")  # conflicts with 1.1.0's .coverage line
    _append(service / "README.md", "\nOur notes.\n")
    commit_all(service, "Team changes")
    head = git(service, "rev-parse", "HEAD")
    capsys.readouterr()
    assert fleet(["preview", str(service.parent), "--to", V2, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert git(service, "rev-parse", "HEAD") == head  # nothing changed
    assert git(service, "status", "--porcelain") == ""
    assert git(service, "branch", "--list", "template-update/*") == ""
    assert row["conflicts"] == [".gitignore"]
    # 1.1.0 changed two seeds and moved RUNBOOK.md to a new seed path; updates never write them
    assert row["newer_seeds"] == [
        "README.md",
        "docs/runbook.md",
        "src/preview_svc/extensions.py",
        "src/preview_svc/settings.py",
    ]
    assert fleet(["update", str(service.parent), "--all", "--to", V2]) == 1  # a conflict
    branch = f"template-update/{V2}"
    changed = git(service, "diff", "--name-status", "--no-renames", f"main..{branch}")
    assert row["changes"] == sorted(" ".join(line.split("\t")) for line in changed.splitlines())
    message = git(service, "log", "-1", "--format=%B", branch)
    assert [line[2:] for line in message.splitlines() if line.startswith("- ")] == row["conflicts"]


# ---------------------------------------------------------------- the fleet on real services


@pytest.fixture(scope="session")
def real_fleet(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("real-fleet")
    small = {"with_database": False, "with_kafka": False}
    generate(template, root / "alpha", V1, service_name="alpha", **small)
    generate(template, root / "bravo", V2, service_name="bravo", **small)
    dirty = generate(template, root / "charlie", V1, service_name="charlie", **small)
    _append(dirty / "README.md", "\nUnfinished notes.\n")
    delta = generate(template, root / "delta", V3, service_name="delta", **small)
    _append(delta / "src" / "delta" / "_platform" / "logs.py", "# local hack\n")
    commit_all(delta, "Hack the platform")
    return root


def test_fleet_status_check_and_update_on_real_services(
    real_fleet: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fleet(["status", str(real_fleet), "--json"]) == 0
    rows = {row["service"]: row for row in json.loads(capsys.readouterr().out)}
    assert {name: (row["version"], row["behind"]) for name, row in rows.items()} == {
        "alpha": (V1, 2),
        "bravo": (V2, 1),
        "charlie": (V1, 2),
        "delta": (V3, 0),
    }
    assert rows["charlie"]["dirty"] == ["README.md"]
    assert rows["delta"]["drift"] == ["changed src/delta/_platform/logs.py"]
    assert [name for name, row in rows.items() if row["drift"]] == ["delta"]

    assert fleet(["check", str(real_fleet)]) == 1
    capsys.readouterr()

    assert fleet(["update", str(real_fleet), "--all", "--jobs", "2"]) == 1  # charlie skipped
    out = capsys.readouterr().out
    lines = {line.split(":")[0]: line for line in out.splitlines() if ": " in line}
    assert "updated cleanly" in lines["alpha"]
    assert "updated cleanly" in lines["bravo"]
    assert "skipped: dirty tree: README.md" in lines["charlie"]
    assert "already current" in lines["delta"]
    for name in ("alpha", "bravo"):
        service = real_fleet / name
        assert git(service, "status", "--porcelain") == ""
        git(service, "merge", "--quiet", "--ff-only", f"template-update/{V3}")
        assert answers(service)["_commit"] == V3
        assert conflicted_files(service, committed=True) == []
    assert fleet(["check", str(real_fleet / "alpha"), "--no-drift"]) == 0
    assert fleet(["check", str(real_fleet / "bravo")]) == 0
