"""scripts/release.py: a release is a version bump, a dated CHANGELOG section and a tag; any
problem is refused in one line with nothing changed. Runs on a copy of this repository."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from tests.update_support import commit_all, copy_working_tree, git, run

ENTRY = "**What changes in a service**\n\n- A paragraph.\n\n**Team action**: none.\n"
# What the section says right after a release (whatever the repository's CHANGELOG holds now).
EMPTY = "Nothing yet. (Write here, in the same two headings, as you change the template.)\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = copy_working_tree(tmp_path / "copier-python-service")
    git(repo, "tag", "0.1.0")
    return repo


def _unreleased(repo: Path, entry: str) -> None:
    changelog = repo / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    head, _, rest = text.partition("## Unreleased\n")
    old_entry_end = rest.index("\n## ")
    changelog.write_text(f"{head}## Unreleased\n\n{entry}{rest[old_entry_end:]}", encoding="utf-8")
    commit_all(repo, "changelog entry")


def _release(repo: Path, *args: str) -> tuple[int, str, str]:
    result = run(repo, sys.executable, "scripts/release.py", *args, check=False)
    return result.returncode, result.stdout, result.stderr


def test_release_bumps_dates_and_tags(repo: Path) -> None:
    _unreleased(repo, ENTRY)
    code, out, err = _release(repo, "0.2.0", "--date", "2026-12-24")
    assert code == 0, err
    assert "released 0.2.0" in out
    pyproject = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["version"] == "0.2.0"
    changelog = (repo / "CHANGELOG.md").read_text(encoding="utf-8")
    unreleased = changelog.index("## Unreleased\n\nNothing yet.")
    section = changelog.index(
        "## 0.2.0\n\nReleased on 2026-12-24.\n\n**What changes in a service**"
    )
    assert unreleased < section < changelog.index("## 0.1.0")
    assert git(repo, "describe", "--tags", "--exact-match", "HEAD").strip() == "0.2.0"
    assert git(repo, "log", "-1", "--format=%s").strip() == "Release 0.2.0"
    assert git(repo, "status", "--porcelain") == ""
    assert 'version = "0.2.0"' in (repo / "uv.lock").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("entry", "version", "message"),
    [
        (EMPTY, "0.2.0", "the Unreleased section of CHANGELOG.md is empty"),
        ("", "0.2.0", "the Unreleased section of CHANGELOG.md is empty"),
        ("- something\n", "0.2.0", "does not say whether teams act"),
        (ENTRY, "0.1.0", "0.1.0 is not newer than 0.1.0"),
        (ENTRY, "v0.2.0", "write the version canonically: 0.2.0"),
        (ENTRY, "two", "'two' is not a PEP 440 version"),
    ],
)
def test_release_refuses_in_one_line_and_changes_nothing(
    repo: Path, entry: str, version: str, message: str
) -> None:
    _unreleased(repo, entry)
    head = git(repo, "rev-parse", "HEAD")
    code, _, err = _release(repo, version)
    assert code == 2
    assert message in err
    assert err.count("\n") == 1
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "tag", "--list").split() == ["0.1.0"]


def test_release_refuses_a_dirty_tree(repo: Path) -> None:
    _unreleased(repo, ENTRY)
    (repo / "notes.txt").write_text("work in progress\n")
    code, _, err = _release(repo, "0.2.0")
    assert code == 2
    assert "the git tree is not clean" in err
