"""Copier migration run after every `copier update`: refresh uv.lock, then report conflicts.

Declared in copier.yml as an `after` migration without a version, so it runs once per update,
in the real project only, after the team's changes were merged back in. (A `_tasks` entry
would run before that merge, against a pyproject.toml without the team's dependencies.)
Leaves a conflicted pyproject.toml alone: resolve it, then run `uv lock`. An update that left
conflicts (markers with `--conflict inline`, `.rej` files with `--conflict rej`) ends with a
list of every conflicted file and what to do, and exit status 0: Copier's own status stays
the update's.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))  # the template clone
from copier_python_service.project import (
    GitError,
    conflict_summary,
    conflicted_files,
    has_conflict_markers,
    uv_lock,
    warn,
)


def main() -> int:
    project = Path.cwd()
    try:
        conflicts = conflicted_files(project)
    except GitError:  # not a git work tree: nothing to compare with
        conflicts = []
    if (project / "pyproject.toml").is_file() and (project / "uv.lock").is_file():
        if has_conflict_markers(project / "pyproject.toml"):
            warn("pyproject.toml has conflicts: resolve them, then run `uv lock`")
        else:
            uv_lock(project, retry_hint="run `uv lock` after the update")
    if conflicts:
        warn(conflict_summary(conflicts).rstrip("\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
