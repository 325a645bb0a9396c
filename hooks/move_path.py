"""Copier migration helper: move a service-owned file or folder to its new place.

Usage (from a `before` migration in copier.yml): ``python hooks/move_path.py OLD NEW``.

Copier updates template-owned files by itself, but a service-owned file (`_skip_if_exists`)
that the template moves would be seeded afresh at the new place and the team's version left
behind. This moves the team's file first (`git mv`, so the update's diff sees the move), before
Copier compares the project with the old template version. Idempotent: nothing to do when OLD
is gone; refuses to overwrite when both exist (says so and leaves both).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def _say(message: str) -> None:
    sys.stderr.write(f"copier-python-service migration: {message}\n")


def move(old: Path, new: Path) -> str:
    if not old.exists():
        return f"{old} not present, nothing to move"
    if new.exists():
        return f"both {old} and {new} exist: kept both, merge them by hand"
    new.parent.mkdir(parents=True, exist_ok=True)
    tracked = (
        subprocess.run(
            ["git", "ls-files", "--error-unmatch", "--", str(old)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    if tracked:
        subprocess.run(["git", "mv", "--", str(old), str(new)], capture_output=True, check=True)
    else:
        old.rename(new)
    return f"moved {old} -> {new}"


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        _say("usage: move_path.py OLD NEW")
        return 2
    try:
        _say(move(Path(argv[0]), Path(argv[1])))
    except (OSError, subprocess.CalledProcessError) as exc:
        _say(f"cannot move {argv[0]} to {argv[1]}: {exc}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
