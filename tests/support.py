"""Helpers shared by the template tests and the benchmarks that run generated services:
subprocesses, loopback ports, HTTP status."""

from __future__ import annotations

import os
import socket
import subprocess
import urllib.error
import urllib.request
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


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The status of `GET url`, or None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - local URL
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None
