"""Helpers shared by the template tests and the benchmarks that run generated services:
subprocesses, loopback ports, HTTP status, polling, stopping processes, scratch PostgreSQL
databases and the mock Kafka broker (bench/mock_broker.py)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

REPO_ROOT = Path(__file__).resolve().parent.parent
MOCK_BROKER = REPO_ROOT / "bench" / "mock_broker.py"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "Template Tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}
T = TypeVar("T")


def env(**extra: str) -> dict[str, str]:
    """The environment for a generated service's commands: its own venv, no downloads."""
    result = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    result["UV_PYTHON_DOWNLOADS"] = "never"
    result.update(extra)
    return result


def git_env(**extra: str) -> dict[str, str]:
    """env() for commands that commit: a git identity, and never a prompt."""
    return env(**GIT_IDENTITY, GIT_TERMINAL_PROMPT="0", **extra)


def run(
    cwd: Path | None,
    *args: str | Path,
    check: bool = True,
    stdin: str | None = None,
    timeout: float | None = 900,
    environ: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command to completion (in `environ`, else env()); with `check`, a non-zero exit
    fails with the ends of its output."""
    command = [str(arg) for arg in args]
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        env=dict(environ) if environ is not None else env(),
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"`{' '.join(command)}` exited {result.returncode} in {cwd}\n"
            f"--- stdout\n{result.stdout[-6000:]}\n--- stderr\n{result.stderr[-6000:]}"
        )
    return result


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def http_get(url: str, timeout: float = 2.0) -> tuple[int | None, str]:
    """The status and body of `GET url`; (None, "") when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - local URL
            return int(response.status), response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read().decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return None, ""


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The status of `GET url`, or None when nothing answers."""
    return http_get(url, timeout)[0]


# --- polling and processes -------------------------------------------------------------------


def _output(process: subprocess.Popen[Any]) -> str:
    """The end of a finished process's piped stdout ("" when it was not piped)."""
    if process.stdout is None:
        return ""
    data = process.stdout.read()
    text = data.decode(errors="replace") if isinstance(data, bytes) else data
    return "\n" + text[-4000:]


def wait_until(
    condition: Callable[[], T],
    timeout: float,
    what: str = "the condition",
    *,
    interval: float = 0.1,
    process: subprocess.Popen[Any] | None = None,
) -> T:
    """Poll `condition()` until it returns something true, and return that.

    An OSError from `condition` (a connection refused, a socket timeout) counts as not yet.
    With `process`, fails as soon as that process exits (with its piped output). After
    `timeout` seconds, TimeoutError naming `what` and the last value seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        if process is not None and process.poll() is not None:
            raise AssertionError(
                f"{what}: the process exited {process.returncode}{_output(process)}"
            )
        try:
            last = condition()
        except OSError as exc:
            last = exc
        else:
            if last:
                return last
        if time.monotonic() >= deadline:
            raise TimeoutError(f"not within {timeout} s: {what} (last: {last!r})")
        time.sleep(interval)


def wait_for_http(
    url: str,
    timeout: float,
    *,
    process: subprocess.Popen[Any] | None = None,
    interval: float = 0.1,
    request_timeout: float = 2.0,
) -> None:
    """Wait until `GET url` answers 200 (see wait_until for `process`)."""
    wait_until(
        lambda: http_status(url, timeout=request_timeout) == 200,
        timeout,
        f"{url} answers 200",
        interval=interval,
        process=process,
    )


def stop(
    process: subprocess.Popen[Any],
    timeout: float = 10.0,
    sig: int = signal.SIGTERM,
    *,
    group: bool = False,
) -> int:
    """Send `sig` (to the process group with `group`), wait up to `timeout` seconds, then
    SIGKILL; returns the exit status. Nothing to do when the process has already exited."""
    if process.poll() is None:

        def send(signum: int) -> None:
            if group:
                os.killpg(process.pid, signum)
            else:
                process.send_signal(signum)

        send(sig)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            process.wait()
    return int(process.returncode)


# --- PostgreSQL and Kafka --------------------------------------------------------------------


def admin_url(url: str) -> str:
    """`url` (any `postgresql+driver://` URL) as the plain URL psql takes."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def _psql(admin: str, sql: str) -> None:
    done = subprocess.run(
        ["psql", admin, "-qc", sql],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    if done.returncode != 0:
        raise AssertionError(f"psql `{sql}` exited {done.returncode}: {done.stderr[-3000:]}")


def drop_database(admin: str, name: str) -> None:
    _psql(admin_url(admin), f'drop database if exists "{name}" with (force)')


def create_database(admin: str, name: str) -> str:
    """A fresh database `name` on the server of `admin` (dropped first if it exists);
    returns its asyncpg URL."""
    admin = admin_url(admin)
    drop_database(admin, name)
    _psql(admin, f'create database "{name}"')
    base = admin.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)


def start_mock_broker(
    python: Path,
    topics: Sequence[str] = (),
    package: str | None = None,
    partitions: int = 4,
    *,
    unwritable: Sequence[str] = (),
    cwd: Path | None = None,
) -> tuple[subprocess.Popen[str], str]:
    """librdkafka's mock Kafka cluster in a process of its own (bench/mock_broker.py; `python`
    needs confluent-kafka); returns the process and its bootstrap servers.

    With `package`, the generated service's dev broker (no initial rebalance delay). With
    `unwritable` (and `cwd`, the service's root, for its test helpers), those topics refuse
    writes until the process gets SIGUSR1."""
    args = [str(python), str(MOCK_BROKER), "--partitions", str(partitions)]
    args += [arg for topic in topics for arg in ("--topic", topic)]
    args += [arg for topic in unwritable for arg in ("--unwritable", topic)]
    if package:
        args += ["--package", package]
    process = subprocess.Popen(
        args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert process.stdout is not None
    bootstrap = process.stdout.readline().strip()
    if not bootstrap:
        stop(process)
        raise RuntimeError("the mock Kafka broker did not start")
    return process, bootstrap
