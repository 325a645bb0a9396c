"""Status, drift and update of one service; every function is safe to run in a thread."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from packaging.version import Version

from copier_python_service import project
from copier_python_service.fleet.services import (
    FleetError,
    Service,
    newest_version,
    template_tags,
    versions_behind,
)


def git(path: Path, *args: str, check: bool = True) -> str:
    """Run git in ``path``; FleetError with git's last message line on failure."""
    try:
        return project.git(path, *args, check=check)
    except project.GitError as exc:
        raise FleetError(str(exc)) from exc


def is_git_repo(path: Path) -> bool:
    try:
        return git(path, "rev-parse", "--is-inside-work-tree", check=False).strip() == "true"
    except FleetError:
        return False


def dirty_files(path: Path) -> list[str]:
    """Changed, staged or untracked paths (what makes `copier update` refuse to run)."""
    try:
        return project.changed_files(path)
    except project.GitError as exc:
        raise FleetError(str(exc)) from exc


@dataclass
class Status:
    service: Service
    newest: Version | None = None
    behind: int | None = None
    git: bool = True
    dirty: list[str] = field(default_factory=list)
    drift: list[str] | None = None  # None: not checked
    error: str | None = None

    @property
    def drifted(self) -> bool:
        return bool(self.drift)


def check_drift(service: Service) -> list[str]:
    """Drift lines for ``service`` (runs the drift checker in its own process)."""
    result = subprocess.run(
        [sys.executable, "-m", "copier_python_service.fleet.drift", str(service.path)],
        capture_output=True,
        text=True,
        check=False,
        env=project.GIT_ENV,
    )
    if result.returncode == 0:
        return []
    if result.returncode == 1:
        return [line.strip() for line in result.stdout.splitlines()[1:] if line.strip()]
    lines = (result.stderr or result.stdout).strip().splitlines()
    raise FleetError(lines[-1].removeprefix("error: ") if lines else "drift check failed")


def service_status(service: Service, *, drift: bool) -> Status:
    status = Status(service=service)
    try:
        status.newest = newest_version(service.src_path)
        status.behind = versions_behind(service)
        status.git = is_git_repo(service.path)
        if status.git:
            status.dirty = dirty_files(service.path)
        if drift:
            status.drift = check_drift(service)
    except FleetError as exc:
        status.error = str(exc)
    return status


class Outcome(StrEnum):
    UPDATED = "updated cleanly"
    CONFLICTS = "updated with conflicts"
    CURRENT = "already current"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass
class UpdateResult:
    service: Service
    outcome: Outcome
    detail: str = ""
    branch: str | None = None
    files: list[str] = field(default_factory=list)


def _identity_args(path: Path) -> list[str]:
    if git(path, "config", "user.email", check=False).strip():
        return []
    return ["-c", "user.name=cps-fleet", "-c", "user.email=cps-fleet@localhost"]


def _run_copier_update(path: Path, tag: str) -> None:
    command = [
        sys.executable,
        "-m",
        "copier",
        "update",
        "--trust",
        "--defaults",
        "--conflict",
        "inline",
        "--vcs-ref",
        tag,
    ]
    result = subprocess.run(
        command,
        cwd=path,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        env=project.GIT_ENV,
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
        raise FleetError(f"copier update failed: {lines[-1] if lines else result.returncode}")


def _rollback(path: Path, original: str, branch: str) -> str:
    """Put the service back on ``original`` as it was; return a note for the summary."""
    try:
        git(path, "reset", "--hard", "--quiet")
        git(path, "clean", "-fd", "--quiet")
        git(path, "switch", "--quiet", original)
        git(path, "branch", "-D", "--quiet", branch)
    except FleetError as exc:
        return f"; ROLLBACK FAILED ({exc}): the service is on branch {branch}, check it by hand"
    return f"; nothing changed, still on {original}"


def update_service(service: Service, target: Version, *, branch_prefix: str) -> UpdateResult:
    """Update one service to ``target`` on its own branch with one commit, or explain why not."""
    path = service.path
    current = service.version
    if current is not None and current >= target:
        return UpdateResult(service, Outcome.CURRENT, f"at {service.commit}")
    if not is_git_repo(path):
        return UpdateResult(service, Outcome.SKIPPED, "not a git repository")
    try:
        dirty = dirty_files(path)
        if dirty:
            shown = ", ".join(dirty[:3]) + (f" (+{len(dirty) - 3} more)" if len(dirty) > 3 else "")
            return UpdateResult(service, Outcome.SKIPPED, f"dirty tree: {shown}")
        original = git(path, "symbolic-ref", "--short", "-q", "HEAD", check=False).strip()
        if not original:
            return UpdateResult(service, Outcome.SKIPPED, "detached HEAD: check out a branch")
        branch = f"{branch_prefix}/{target}"
        if git(path, "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}", check=False):
            return UpdateResult(
                service, Outcome.SKIPPED, f"branch {branch} already exists (awaiting review?)"
            )
        git(path, "switch", "--quiet", "-c", branch)
    except FleetError as exc:
        return UpdateResult(service, Outcome.FAILED, str(exc))
    try:
        _run_copier_update(path, template_tags(service.src_path)[target])
        conflicts = project.conflicted_files(path)
        git(path, "add", "--all")
        message = f"Update copier-python-service template {service.commit} -> {target}"
        if conflicts:
            message += "\n\nConflicts to resolve before merging:\n" + "".join(
                f"- {name}\n" for name in conflicts
            )
        git(path, *_identity_args(path), "commit", "--quiet", "--no-verify", "-m", message)
        git(path, "switch", "--quiet", original)
    except Exception as exc:  # whatever went wrong, put the service back and say so
        note = _rollback(path, original, branch)
        return UpdateResult(service, Outcome.FAILED, f"{exc}{note}")
    if conflicts:
        return UpdateResult(
            service, Outcome.CONFLICTS, f"{service.commit} -> {target}", branch, conflicts
        )
    return UpdateResult(service, Outcome.UPDATED, f"{service.commit} -> {target}", branch)
