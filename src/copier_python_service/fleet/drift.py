# /// script
# requires-python = ">=3.11"
# dependencies = ["copier>=9.4"]
# ///
"""Report template-owned files that differ from what the recorded template version renders.

Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.

The service is copied (tracked and untracked files, never ignored ones) into a temporary
folder, `copier recopy` re-renders the template at the version recorded in
`.copier-answers.yml` over that copy, and the copy is compared with the service.
Service-owned files (`_skip_if_exists`) are left alone by the recopy, so every difference is
a template-owned file that was edited, deleted or is missing. In `pyproject.toml` only the
dependency tables belong to the team; every other key is compared.

Usage: ``uv run scripts/template_drift.py [PROJECT_DIR]`` (uv reads the inline metadata above
and runs it with Copier). Exit status 0: no drift; 1: drift; 2: the check cannot run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shutil
import sys
import tempfile
import tomllib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import yaml
from copier import VcsRef, run_recopy
from copier.errors import CopierError
from jinja2 import TemplateError
from pathspec import GitIgnoreSpec

ANSWERS_FILE = ".copier-answers.yml"
IGNORED_PARTS = frozenset(
    {".git", ".venv", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
)
# Files the template never renders (or that Copier itself writes for the team).
IGNORED_FILES = frozenset({"uv.lock"})
# Keys of pyproject.toml that belong to the team (dependencies are added with `uv add`).
TEAM_PYPROJECT_KEYS: tuple[tuple[str, ...], ...] = (
    ("project", "dependencies"),
    ("project", "optional-dependencies"),
    ("dependency-groups",),
    ("tool", "uv", "sources"),
)


# Copier's remote forms (gh:, gl:, git@host:, git+..., scheme://); anything else is a path.
REMOTE_SOURCE = re.compile(r"^(gh:|gl:|git@|git\+|[A-Za-z][A-Za-z0-9+.-]*://)")
FIX_SOURCE = "uvx --from {template} cps-fleet set-source {service} {template}"


class DriftError(Exception):
    """The drift check could not run (not a generated service, template unreachable...)."""


def local_source(src_path: str) -> Path | None:
    """The path a recorded `_src_path` names (``~`` expanded), or None for a remote source."""
    return None if REMOTE_SOURCE.match(src_path) else Path(src_path).expanduser()


def is_git_source(path: Path) -> bool:
    """A folder with a git repository, or a git bundle: what Copier can clone."""
    return (path / ".git").exists() or (path / "HEAD").is_file() or path.suffix == ".bundle"


def source_problem(project: Path, src_path: str) -> str | None:
    """One line saying what is recorded and the command that fixes it, when the recorded
    template source cannot be reached from anywhere; None for a URL or an absolute git path."""
    path = local_source(src_path)
    if path is None or (path.is_absolute() and is_git_source(path)):
        return None
    if path.is_absolute():
        why = "no git repository there (moved or deleted?)"
        guess = None
    else:
        why = "a relative path only works from the folder `copier copy` ran in"
        guess = (project.parent / path).resolve()
    template = str(guess) if guess and is_git_source(guess) else "PATH/TO/copier-python-service"
    fix = FIX_SOURCE.format(template=template, service=project)
    return (
        f"{ANSWERS_FILE} records the template source {src_path!r}, which cannot be reached "
        f"({why}); fix: {fix}"
    )


def recorded_source(project: Path) -> str:
    """The `_src_path` recorded in ``project``'s answers file."""
    try:
        answers = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DriftError(f"cannot read {project / ANSWERS_FILE}: {exc}") from exc
    source = answers.get("_src_path") if isinstance(answers, dict) else None
    if not isinstance(source, str):
        raise DriftError(f"{project / ANSWERS_FILE} records no template source (_src_path)")
    return source


def record_source(project: Path, source: str) -> str:
    """Rewrite the `_src_path` line of ``project``'s answers file as Copier writes it (so the
    file does not drift); return the old value."""
    answers = project / ANSWERS_FILE
    lines = answers.read_text(encoding="utf-8").splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.startswith("_src_path:"):
            # what Copier's `to_nice_yaml` filter writes for this key
            lines[index] = yaml.dump(
                {"_src_path": source}, indent=4, allow_unicode=True, default_flow_style=False
            )
            answers.write_text("".join(lines), encoding="utf-8")
            return line.partition(":")[2].strip()
    raise DriftError(f"{answers} has no _src_path line")


def _project_files(root: Path) -> set[str]:
    """Relative paths of the project's files, without what its .gitignore ignores."""
    gitignore = root / ".gitignore"
    lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.is_file() else []
    spec = GitIgnoreSpec.from_lines(lines)
    return {relpath for relpath in _walk(root) if not spec.match_file(relpath)}


def _walk(root: Path) -> set[str]:
    found: set[str] = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [name for name in dirs if name not in IGNORED_PARTS]
        base = Path(folder).relative_to(root)
        found.update((base / name).as_posix() for name in files)
    return {relpath for relpath in found if not _ignored(relpath)}


def _ignored(relpath: str) -> bool:
    parts = relpath.split("/")
    return relpath in IGNORED_FILES or any(part in IGNORED_PARTS for part in parts)


def _without(data: dict[str, Any], keys: Iterable[tuple[str, ...]]) -> dict[str, Any]:
    for key in keys:
        node: Any = data
        for part in key[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(key[-1], None)
    return data


def _same_pyproject(left: bytes, right: bytes) -> bool:
    try:
        a = tomllib.loads(left.decode())
        b = tomllib.loads(right.decode())
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return left == right
    return _without(a, TEAM_PYPROJECT_KEYS) == _without(b, TEAM_PYPROJECT_KEYS)


def _same(relpath: str, left: bytes, right: bytes) -> bool:
    if relpath == "pyproject.toml":
        return _same_pyproject(left, right)
    return left == right


def _recopy(copy: Path) -> Callable[[Path], bool]:
    """Re-render the recorded template version over ``copy``; return the skip matcher."""
    sink = io.StringIO()
    try:
        with contextlib.redirect_stderr(sink), contextlib.redirect_stdout(sink):
            worker = run_recopy(
                str(copy),
                vcs_ref=VcsRef.CURRENT,
                defaults=True,
                overwrite=True,
                quiet=True,
                skip_tasks=True,
                unsafe=True,
            )
    except (CopierError, TemplateError, OSError, ValueError) as exc:
        detail = str(exc).strip().splitlines()
        message = detail[-1] if detail else type(exc).__name__
        raise DriftError(f"cannot render the recorded template version: {message}") from exc
    match_skip: Callable[[Path], bool] = worker.match_skip
    return match_skip


def find_drift(project: Path) -> list[str]:
    """Return ``"<status> <path>"`` lines for drifted template-owned files (empty: no drift)."""
    project = project.resolve()
    if not (project / ANSWERS_FILE).is_file():
        raise DriftError(f"{project} has no {ANSWERS_FILE}: not generated from a Copier template")
    problem = source_problem(project, recorded_source(project))
    if problem:
        raise DriftError(problem)
    files = _project_files(project)
    with tempfile.TemporaryDirectory(prefix="template-drift-") as tmp:
        copy = Path(tmp) / project.name
        for relpath in files:
            target = copy / relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(project / relpath, target)
        match_skip = _recopy(copy)
        rendered = _walk(copy)
        report: list[str] = []
        for relpath in sorted(rendered | files):
            if relpath not in files:
                if not match_skip(Path(relpath)):
                    report.append(f"missing {relpath}")
            elif relpath in rendered and not _same(
                relpath, (project / relpath).read_bytes(), (copy / relpath).read_bytes()
            ):
                report.append(f"changed {relpath}")
        return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Report template-owned files that differ from the recorded template version."
    )
    parser.add_argument("project", nargs="?", default=".", type=Path, help="service folder")
    args = parser.parse_args(argv)
    try:
        report = find_drift(args.project)
    except DriftError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    if not report:
        sys.stdout.write("no drift: template-owned files match the recorded template version\n")
        return 0
    sys.stdout.write("drift in template-owned files (run `copier recopy` or move the change):\n")
    sys.stdout.writelines(f"  {line}\n" for line in report)
    return 1


if __name__ == "__main__":
    sys.exit(main())
