"""What the Copier hooks, the fleet tool and the tests share about a generated service.

Standard library only: the hooks import it with the interpreter that runs Copier, from the
template clone Copier made (each hook puts this `src/` folder first on `sys.path`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

CONFLICT_MARKERS = (b"<<<<<<< ", b">>>>>>> ")
GIT_ENV = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def warn(message: str) -> None:
    sys.stderr.write(f"copier-python-service: {message}\n")


class GitError(Exception):
    """git could not run, or failed: the message is its last line of output."""


def git(project: Path, *args: str, check: bool = True) -> str:
    """Run git in ``project`` and return its output; GitError when it fails (``check``)."""
    try:
        result = subprocess.run(
            ["git", *args], cwd=project, capture_output=True, text=True, env=GIT_ENV, check=False
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from exc
    if check and result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise GitError(f"git {args[0]} failed: {lines[-1] if lines else result.returncode}")
    return result.stdout


def changed_files(project: Path) -> list[str]:
    """Changed, staged or untracked paths (what makes `copier update` refuse to run)."""
    entries = git(project, "status", "--porcelain", "-z", "--untracked-files=all").split("\0")
    files: list[str] = []
    skip_source = False
    for entry in filter(None, entries):
        if skip_source:  # a rename or copy is followed by its source path
            skip_source = False
            continue
        files.append(entry[3:])
        skip_source = entry[0] in "RC"
    return files


def has_conflict_markers(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return any(line.startswith(CONFLICT_MARKERS) for line in handle)
    except OSError:
        return False


def conflicted_files(project: Path, *, committed: bool = False) -> list[str]:
    """Files of a git work tree left with conflict markers (`copier update --conflict inline`)
    or `.rej` files (`--conflict rej`). Right after an update only unmerged or changed files
    can hold one; ``committed`` also searches every tracked file."""
    unmerged = git(project, "diff", "--name-only", "-z", "--diff-filter=U").split("\0")
    candidates = {name for name in unmerged if name} | set(changed_files(project))
    if committed:
        candidates |= {name for name in git(project, "ls-files", "-z").split("\0") if name}
    return sorted(
        relpath
        for relpath in candidates
        if relpath.endswith(".rej") or has_conflict_markers(project / relpath)
    )


def conflict_summary(files: Iterable[str]) -> str:
    """What a person reads at the end of an update that left conflicts."""
    listed = "".join(f"  {name}\n" for name in files)
    return (
        f"the update left conflicts in:\n{listed}"
        "Resolve each one: edit the lines between <<<<<<< and >>>>>>> (or apply the hunks of a\n"
        ".rej file to the file beside it, then delete the .rej), run `uv lock` if pyproject.toml\n"
        "was among them, run the tests, then commit. The pre-commit hook and CI refuse a commit\n"
        "that still has markers or .rej files.\n"
    )


def uv_lock(project: Path, *, retry_hint: str) -> bool:
    """Refresh ``project``'s uv.lock; on failure warn with ``retry_hint`` and return False."""
    uv = shutil.which("uv")
    if uv is None:
        warn(f"uv not found: {retry_hint}")
        return False
    result = subprocess.run(
        [uv, "lock", "--quiet"], cwd=project, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        warn(f"`uv lock` failed ({reason}): {retry_hint}")
        return False
    return True
