# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""A Python module run as a child process, with its output read as it comes."""

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChildProcess:
    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    """Every line printed so far (standard output and error)."""
    records: list[dict[str, Any]] = field(default_factory=list)
    """The JSON log records among them (`LOG_FORMAT=json`, the default)."""


async def _read(child: ChildProcess, stream: asyncio.StreamReader) -> None:
    while line := await stream.readline():
        text = line.decode(errors="replace").rstrip("\n")
        child.lines.append(text)
        with contextlib.suppress(json.JSONDecodeError):
            record = json.loads(text)
            if isinstance(record, dict):
                child.records.append(record)


@contextlib.asynccontextmanager
async def child_process(
    module: str, *args: str, env: Mapping[str, str]
) -> AsyncIterator[ChildProcess]:
    """`python -m module *args` with the environment `env`, its output read in the background.

    On exit a process still running is killed, and its output is read to the end.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    child = ChildProcess(process)
    reader = asyncio.create_task(_read(child, process.stdout))
    try:
        yield child
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await reader
