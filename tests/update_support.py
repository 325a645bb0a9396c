"""Helpers for the update and fleet tests: git, tagged template repos, generated services."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests import support
from tests.support import REPO_ROOT

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}


def env() -> dict[str, str]:
    """Environment for subprocesses: no prompts, no Python downloads, a git identity."""
    return {
        **os.environ,
        **GIT_IDENTITY,
        "UV_PYTHON_DOWNLOADS": "never",
        "GIT_TERMINAL_PROMPT": "0",
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(REPO_ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p
        ),
    }


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
