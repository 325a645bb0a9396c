# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""An in-process Kafka-protocol broker for local development and tests.

librdkafka (shipped inside the `confluent-kafka` wheel, a development dependency) contains
a mock cluster: a protocol-level test broker, not Apache Kafka (no CreateTopics, no
persistence, no real replication). It is reached here through ctypes so that `dev` (and the
tests) can create topics without auto-creation and join consumer groups without the 3 s
initial rebalance delay. For real Kafka, point the bootstrap servers at it.

`TcpForwarder` listens on a fixed address and forwards to the broker, so a service can be
configured before the broker exists (clients then use the broker's advertised address).
"""

import asyncio
import contextlib
import ctypes
import pathlib
from typing import Self


def _load_librdkafka() -> ctypes.CDLL:
    try:
        import confluent_kafka  # noqa: PLC0415 - development dependency, loaded on demand
    except ImportError as exc:  # pragma: no cover - depends on the installation
        msg = "the dev broker needs the development dependencies: run `uv sync`"
        raise RuntimeError(msg) from exc
    root = pathlib.Path(confluent_kafka.__file__).resolve().parent
    candidates = sorted(root.parent.glob("confluent_kafka*/librdkafka*")) + sorted(
        root.glob("**/librdkafka*")
    )
    if not candidates:  # pragma: no cover - depends on the wheel layout
        msg = f"librdkafka not found next to {root}"
        raise RuntimeError(msg)
    lib = ctypes.CDLL(str(candidates[0]))
    ptr, i32, text = ctypes.c_void_p, ctypes.c_int32, ctypes.c_char_p
    signatures: dict[str, tuple[object, list[object]]] = {
        "rd_kafka_conf_new": (ptr, []),
        "rd_kafka_conf_set": (ctypes.c_int, [ptr, text, text, text, ctypes.c_size_t]),
        "rd_kafka_new": (ptr, [ctypes.c_int, ptr, text, ctypes.c_size_t]),
        "rd_kafka_destroy": (None, [ptr]),
        "rd_kafka_mock_cluster_new": (ptr, [ptr, ctypes.c_int]),
        "rd_kafka_mock_cluster_destroy": (None, [ptr]),
        "rd_kafka_mock_cluster_bootstraps": (text, [ptr]),
        "rd_kafka_mock_group_initial_rebalance_delay_ms": (None, [ptr, i32]),
        "rd_kafka_mock_topic_create": (ctypes.c_int, [ptr, text, ctypes.c_int, ctypes.c_int]),
        "rd_kafka_mock_broker_set_host_port": (ctypes.c_int, [ptr, i32, text, ctypes.c_int]),
    }
    for name, (restype, argtypes) in signatures.items():
        function = getattr(lib, name)
        function.restype = restype
        function.argtypes = argtypes
    return lib


class MockBroker:
    """A librdkafka mock cluster living in this process until `close()`."""

    def __init__(self, brokers: int = 1) -> None:
        self._lib = _load_librdkafka()
        errstr = ctypes.create_string_buffer(512)
        conf = self._lib.rd_kafka_conf_new()
        self._lib.rd_kafka_conf_set(conf, b"log_level", b"0", errstr, len(errstr))
        self._rk = self._lib.rd_kafka_new(0, conf, errstr, len(errstr))
        if not self._rk:
            raise RuntimeError(errstr.value.decode())
        self._cluster = self._lib.rd_kafka_mock_cluster_new(self._rk, brokers)
        self._lib.rd_kafka_mock_group_initial_rebalance_delay_ms(self._cluster, 0)
        self.bootstrap_servers: str = self._lib.rd_kafka_mock_cluster_bootstraps(
            self._cluster
        ).decode()

    def create_topic(self, topic: str, partitions: int = 4) -> None:
        code = self._lib.rd_kafka_mock_topic_create(self._cluster, topic.encode(), partitions, 1)
        if code != 0:
            msg = f"mock broker could not create topic {topic!r} (error {code})"
            raise RuntimeError(msg)

    def advertise(self, host: str, port: int, broker_id: int = 1) -> None:
        """Make Metadata responses point clients at host:port (e.g. a forwarder)."""
        self._lib.rd_kafka_mock_broker_set_host_port(self._cluster, broker_id, host.encode(), port)

    def close(self) -> None:
        if self._rk:
            self._lib.rd_kafka_mock_cluster_destroy(self._cluster)
            self._lib.rd_kafka_destroy(self._rk)
            self._rk = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class TcpForwarder:
    """Listen on host:port and pipe every connection to `target` (host:port)."""

    def __init__(self, host: str, port: int, target: str) -> None:
        self.host, self.port = host, port
        target_host, _, target_port = target.split(",", 1)[0].rpartition(":")
        self._target = (target_host, int(target_port))
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self._target)
        except OSError:
            writer.close()
            return
        for source, sink in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                writer.close()
