"""The scripts behind Copier's tasks and migrations, on their edge cases (fast, no Copier run)."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.update_support import REPO_ROOT, commit_all, git, run

HOOKS = REPO_ROOT / "hooks"


def _hook(cwd: Path, name: str, *args: str) -> tuple[int, str]:
    result = run(cwd, sys.executable, str(HOOKS / name), *args, check=False)
    return result.returncode, result.stderr


def _repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    (tmp_path / "RUNBOOK.md").write_text("ours\n")
    commit_all(tmp_path, "start")
    return tmp_path


def test_move_path_moves_a_tracked_file_with_git(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    code, err = _hook(repo, "move_path.py", "RUNBOOK.md", "docs/runbook.md")
    assert code == 0
    assert "moved RUNBOOK.md -> docs/runbook.md" in err
    assert (repo / "docs" / "runbook.md").read_text() == "ours\n"
    assert git(repo, "status", "--porcelain").splitlines() == ["R  RUNBOOK.md -> docs/runbook.md"]
    # idempotent: a second run finds nothing to move
    code, err = _hook(repo, "move_path.py", "RUNBOOK.md", "docs/runbook.md")
    assert code == 0
    assert "nothing to move" in err


def test_move_path_never_overwrites(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    (repo / "docs").mkdir()
    (repo / "docs" / "runbook.md").write_text("theirs\n")
    code, err = _hook(repo, "move_path.py", "RUNBOOK.md", "docs/runbook.md")
    assert code == 0
    assert "kept both" in err
    assert (repo / "RUNBOOK.md").read_text() == "ours\n"
    assert (repo / "docs" / "runbook.md").read_text() == "theirs\n"


def test_move_path_usage(tmp_path: Path) -> None:
    code, err = _hook(tmp_path, "move_path.py", "only-one")
    assert code == 2
    assert "usage: move_path.py OLD NEW" in err


def test_post_update_leaves_a_conflicted_pyproject_alone(tmp_path: Path) -> None:
    pyproject = (
        "[project]\n<<<<<<< before updating\nname = 'a'\n=======\nname = 'b'\n>>>>>>> after\n"
    )
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "uv.lock").write_text("old lock\n")
    code, err = _hook(tmp_path, "post_update.py")
    assert code == 0
    assert "pyproject.toml has conflicts" in err
    assert (tmp_path / "uv.lock").read_text() == "old lock\n"


def test_post_copy_does_nothing_outside_a_generated_project(tmp_path: Path) -> None:
    code, err = _hook(tmp_path, "post_copy.py")
    assert code == 0
    assert "nothing to do" in err
    assert not (tmp_path / ".git").exists()
