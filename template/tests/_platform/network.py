# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""Loopback networking for tests: free ports, and a TCP proxy a test can cut and restore."""

import asyncio
import contextlib
import socket
from collections.abc import Coroutine
from typing import Any


def free_port() -> int:
    """A loopback port nothing listens on (for a server the test starts or a dead address)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class TcpProxy:
    """Listens on 127.0.0.1:`port` (a free one when 0) and pipes every connection to `target`:
    `(host, port)` or the path of a Unix socket. A test cuts it (`cut`: new connections are
    refused, open ones dropped) and restores it (`start` again, on the same port) to see how
    the service lives through an unreachable dependency, or starts it late to make one appear.

    Subclasses change what goes upstream by overriding `forward_upstream`.
    """

    def __init__(self, target: tuple[str, int] | str, port: int = 0) -> None:
        self.port = port
        self._target = target
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Listen (again, on the same port after `cut`)."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if server is not None:
            await server.wait_closed()

    async def forward_upstream(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        """Copy what the client sends to the target (as it comes, by default)."""
        await self._copy(reader, writer)

    @staticmethod
    async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if isinstance(self._target, str):
                upstream_reader, upstream_writer = await asyncio.open_unix_connection(self._target)
            else:
                upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        for pipe, source, sink in (
            (self.forward_upstream, reader, upstream_writer),
            (self._copy, upstream_reader, writer),
        ):
            task = asyncio.create_task(self._pipe(pipe(source, sink), sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pipe(copy: Coroutine[Any, Any, None], sink: asyncio.StreamWriter) -> None:
        """Run one direction's copy until either side closes (or `cut`), then close `sink`."""
        try:
            await copy
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                sink.close()
