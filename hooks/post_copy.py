"""Copier task after `copier copy`: git repo, lock file and first commit for the new service.

Runs only for the copy operation (see `_tasks` in copier.yml), in the generated folder.
Idempotent and safe anywhere:
- inside an existing git work tree (a monorepo, or `copier recopy` over a service) it creates no
  repository and no commit, it only refreshes the lock file;
- without `uv` or without network it warns and goes on: `uv lock` can be run later.
Standard library only: it runs with the interpreter that runs Copier.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ANSWERS = ".copier-answers.yml"


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=check)


def _warn(message: str) -> None:
    sys.stderr.write(f"copier-python-service: {message}\n")


def _inside_work_tree() -> bool:
    try:
        result = _run("git", "rev-parse", "--is-inside-work-tree", check=False)
    except OSError:
        return False
    return result.returncode == 0 and result.stdout.strip() == "true"


def _template_version() -> str:
    for line in Path(ANSWERS).read_text(encoding="utf-8").splitlines():
        if line.startswith("_commit:"):
            return line.partition(":")[2].strip()
    return "unknown version"


def _lock() -> None:
    uv = shutil.which("uv")
    if uv is None:
        _warn("uv not found: run `uv lock` yourself, then commit uv.lock")
        return
    result = subprocess.run([uv, "lock", "--quiet"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        _warn(f"`uv lock` failed ({reason}): run it yourself, then commit uv.lock")


def _first_commit() -> None:
    _run("git", "init", "--quiet", "--initial-branch=main")
    identity: list[str] = []
    if not _run("git", "config", "user.email", check=False).stdout.strip():
        identity = ["-c", "user.name=copier-python-service", "-c", "user.email=noreply@localhost"]
    _run("git", "add", "--all")
    message = f"Generate service from copier-python-service {_template_version()}"
    _run("git", *identity, "commit", "--quiet", "--no-verify", "-m", message)


def main() -> int:
    if not Path(ANSWERS).is_file():
        _warn(f"no {ANSWERS} in {Path.cwd()}: nothing to do")
        return 0
    already_git = _inside_work_tree()
    _lock()
    if already_git:
        return 0
    try:
        _first_commit()
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        _warn(f"could not create the first git commit ({detail.strip()}); run `git init` yourself")
    return 0


if __name__ == "__main__":
    sys.exit(main())
