"""Helpers for the update and fleet tests: git, tagged template repos, generated services."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests import support
from tests.support import REPO_ROOT


def env() -> dict[str, str]:
    """support.git_env() with this repo's src/ on PYTHONPATH."""
    paths = (str(REPO_ROOT / "src"), os.environ.get("PYTHONPATH", ""))
    return support.git_env(PYTHONPATH=os.pathsep.join(p for p in paths if p))


def run(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """tests.support.run in env(), without a time limit."""
    return support.run(cwd, *args, check=check, timeout=None, environ=env())


def git(cwd: Path, *args: str, check: bool = True) -> str:
    return run(cwd, "git", *args, check=check).stdout


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "--allow-empty", "-m", message)


def copy_working_tree(dst: Path) -> Path:
    """Copy this repo's working tree (tracked and untracked, never ignored) to a new git repo."""
    listing = git(REPO_ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listing.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            target = dst / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git(dst, "init", "--quiet", "--initial-branch=main")
    commit_all(dst, "template snapshot")
    return dst


def tag(repo: Path, version: str) -> None:
    git(repo, "tag", version)
