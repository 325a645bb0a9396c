"""Status, drift and update of one service; every function is safe to run in a thread."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from copier import run_copy
from copier.errors import CopierError
from jinja2 import TemplateError
from packaging.version import Version

from copier_python_service import project
from copier_python_service.fleet.drift import source_problem
from copier_python_service.fleet.inventory import (
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


def require_source(service: Service) -> None:
    """FleetError with what is recorded and the fixing command when the source is unusable."""
    problem = source_problem(service.path, service.src_path)
    if problem:
        raise FleetError(problem)


def service_status(service: Service, *, drift: bool) -> Status:
    status = Status(service=service)
    try:
        require_source(service)
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


@dataclass
class Preview:
    """What `update` would do to one service; computed on a clone, the service is untouched."""

    service: Service
    target: Version | None = None
    changes: list[str] = field(default_factory=list)  # "M path", "A path", "D path"
    conflicts: list[str] = field(default_factory=list)
    newer_seeds: list[str] = field(default_factory=list)  # service-owned, never updated
    note: str = ""  # why nothing was previewed (current, dirty, error)

    @property
    def files(self) -> list[str]:
        return [line.split(" ", 1)[1] for line in self.changes]


def _changes(path: Path) -> list[str]:
    """`git status` of a clone after the update, as "<letter> <path>" lines."""
    git(path, "add", "--all")
    out = git(path, "diff", "--cached", "--name-status", "-z", "--no-renames")
    fields = [item for item in out.split("\0") if item]
    return sorted(f"{fields[i][0]} {fields[i + 1]}" for i in range(0, len(fields), 2))


def _render(service: Service, tag: str, dst: Path) -> set[str]:
    """Render ``tag`` with the service's answers into ``dst``; return the service-owned files."""
    data = {key: value for key, value in service.answers.items() if not key.startswith("_")}
    try:
        worker = run_copy(
            service.src_path,
            dst,
            data=data,
            vcs_ref=tag,
            defaults=True,
            overwrite=True,
            quiet=True,
            skip_tasks=True,
            unsafe=True,
        )
    except (CopierError, TemplateError, OSError, ValueError) as exc:
        raise FleetError(f"cannot render template {tag}: {exc}") from exc
    rendered = {p.relative_to(dst).as_posix() for p in dst.rglob("*") if p.is_file()}
    return {relpath for relpath in rendered if worker.match_skip(Path(relpath))}


def _newer_seeds(service: Service, tag: str, work: Path) -> list[str]:
    """Service-owned files whose seed differs between the recorded version and ``tag``."""
    old, new = work / "seed-old", work / "seed-new"
    old_seeds = _render(service, service.commit, old)
    new_seeds = _render(service, tag, new)
    return sorted(
        relpath
        for relpath in new_seeds
        if relpath not in old_seeds or (old / relpath).read_bytes() != (new / relpath).read_bytes()
    )


def preview_service(service: Service, target: Version) -> Preview:
    """Run the update `update_service` would run, on a clone of HEAD; report it file by file."""
    preview = Preview(service, target)
    current = service.version
    if current is not None and current >= target:
        preview.note = f"already current at {service.commit}"
        return preview
    if not is_git_repo(service.path):
        preview.note = "not a git repository: `update` would skip it"
        return preview
    try:
        dirty = dirty_files(service.path)
        if dirty:
            preview.note = f"dirty tree ({len(dirty)} file(s)): `update` would skip it"
            return preview
        tag = template_tags(service.src_path)[target]
        with tempfile.TemporaryDirectory(prefix="cps-fleet-preview-") as tmp:
            clone = Path(tmp) / service.path.name
            git(Path(tmp), "clone", "--quiet", "--no-hardlinks", str(service.path), str(clone))
            _run_copier_update(clone, tag)
            preview.conflicts = project.conflicted_files(clone)
            preview.changes = _changes(clone)
            preview.newer_seeds = _newer_seeds(service, tag, Path(tmp))
    except FleetError as exc:
        preview.note = f"cannot preview: {exc}"
    return preview
