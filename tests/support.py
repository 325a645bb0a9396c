"""Subprocess helpers shared by the template tests that run generated services."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def env(**extra: str) -> dict[str, str]:
    """The environment for a generated service's commands: its own venv, no downloads."""
    result = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    result["UV_PYTHON_DOWNLOADS"] = "never"
    result.update(extra)
    return result


def run(
    cwd: Path, *args: str, stdin: str | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion; a non-zero exit fails with the ends of its output."""
    result = subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env(),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"`{' '.join(args)}` exited {result.returncode} in {cwd}\n"
            f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result
