"""Copier migration run after every `copier update`: refresh uv.lock for the new pyproject.toml.

Declared in copier.yml as an `after` migration without a version, so it runs once per update,
in the real project only, after the team's changes were merged back in. (A `_tasks` entry
would run before that merge, against a pyproject.toml without the team's dependencies.)
Leaves a conflicted pyproject.toml alone: resolve it, then run `uv lock`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def _warn(message: str) -> None:
    sys.stderr.write(f"copier-python-service: {message}\n")


def main() -> int:
    pyproject = Path("pyproject.toml")
    if not pyproject.is_file() or not Path("uv.lock").is_file():
        return 0
    text = pyproject.read_text(encoding="utf-8")
    if any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in text.splitlines()):
        _warn("pyproject.toml has conflicts: resolve them, then run `uv lock`")
        return 0
    uv = shutil.which("uv")
    if uv is None:
        _warn("uv not found: run `uv lock` after the update")
        return 0
    result = subprocess.run([uv, "lock", "--quiet"], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
        _warn(f"`uv lock` failed ({reason}): run it after the update")
    return 0


if __name__ == "__main__":
    sys.exit(main())
