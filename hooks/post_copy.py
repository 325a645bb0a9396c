"""Copier task after `copier copy`: a service that can update, with its hook and first commit.

Runs only for the copy operation (see `_tasks` in copier.yml), in the generated folder:
- a relative template path (`copier copy ./copier-python-service svc`) is recorded as an
  absolute one, so that `copier update`, the drift check and `cps-fleet` work from inside the
  service (Copier records the path as typed and resolves it against the current folder);
- `uv lock`, then (outside an existing git work tree) `git init`, the pre-commit hook and a
  first commit. Inside a work tree (a monorepo, `copier recopy`) it only refreshes the lock.
Safe anywhere: without `uv` or network it warns and goes on (`uv lock` can run later).
It runs with the interpreter that runs Copier (which has Copier and PyYAML).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))  # the template clone
from copier_python_service.fleet.drift import (
    ANSWERS_FILE,
    is_git_source,
    local_source,
    record_source,
    recorded_source,
    source_problem,
)
from copier_python_service.project import uv_lock, warn

# A plain git hook, so that nothing needs installing or downloading: it runs the hooks of
# .pre-commit-config.yaml (all `repo: local`) on the staged files, through the service's uv.
PRE_COMMIT_HOOK = """\
#!/bin/sh
# Installed by copier-python-service (post-copy): runs .pre-commit-config.yaml's hooks.
# `uv run pre-commit install` replaces it with pre-commit's own hook, which does the same.
exec uv run --quiet pre-commit run --hook-stage pre-commit
"""


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=check)


def _inside_work_tree() -> bool:
    try:
        result = _run("git", "rev-parse", "--is-inside-work-tree", check=False)
    except OSError:
        return False
    return result.returncode == 0 and result.stdout.strip() == "true"


def _template_version() -> str:
    for line in Path(ANSWERS_FILE).read_text(encoding="utf-8").splitlines():
        if line.startswith("_commit:"):
            return line.partition(":")[2].strip()
    return "unknown version"


def _absolute_source(project: Path) -> None:
    """Record a relative template path as absolute (the folder copier ran in is $PWD)."""
    source = recorded_source(project)
    path = local_source(source)
    if path is None or path.is_absolute():
        return
    started_in = os.environ.get("PWD")
    candidate = (Path(started_in) / path).resolve() if started_in else None
    if candidate is not None and is_git_source(candidate):
        record_source(project, str(candidate))
        return
    warn(source_problem(project, source) or f"cannot resolve template source {source!r}")


def _install_pre_commit_hook() -> None:
    hook = Path(_run("git", "rev-parse", "--git-path", "hooks").stdout.strip()) / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text(PRE_COMMIT_HOOK, encoding="utf-8")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def _first_commit() -> None:
    _run("git", "init", "--quiet", "--initial-branch=main")
    _install_pre_commit_hook()
    identity: list[str] = []
    if not _run("git", "config", "user.email", check=False).stdout.strip():
        identity = ["-c", "user.name=copier-python-service", "-c", "user.email=noreply@localhost"]
    _run("git", "add", "--all")
    message = f"Generate service from copier-python-service {_template_version()}"
    _run("git", *identity, "commit", "--quiet", "--no-verify", "-m", message)


def main() -> int:
    project = Path.cwd()
    if not (project / ANSWERS_FILE).is_file():
        warn(f"no {ANSWERS_FILE} in {project}: nothing to do")
        return 0
    _absolute_source(project)
    already_git = _inside_work_tree()
    uv_lock(project, retry_hint="run `uv lock` yourself, then commit uv.lock")
    if already_git:
        return 0
    try:
        _first_commit()
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        warn(f"could not create the first git commit ({detail.strip()}); run `git init` yourself")
    return 0


if __name__ == "__main__":
    sys.exit(main())
