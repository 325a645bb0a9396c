# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""What a dead-letter record carries, defined once.

A dead-letter record keeps the original key, value and headers and adds `dlt.*` headers
with the record's coordinates and the reason. It always fits the producer's request limit:
above `max_bytes` the value is cut (and the original headers dropped if they alone do not
fit), and `dlt.original.size` and `dlt.original.sha256` say what the original was, so
nothing is refused by the broker and the partition never waits on a record too big to park.
"""

import hashlib
from dataclasses import dataclass
from typing import Any

PREFIX = "dlt."
ORIGINAL_TOPIC = "dlt.original.topic"
ORIGINAL_PARTITION = "dlt.original.partition"
ORIGINAL_OFFSET = "dlt.original.offset"
# Set on a stub for a batch the client could not decode: the last offset it covers.
ORIGINAL_LAST_OFFSET = "dlt.original.last_offset"
ORIGINAL_SIZE = "dlt.original.size"
ORIGINAL_SHA256 = "dlt.original.sha256"
TRUNCATED = "dlt.truncated"
ERROR_TYPE = "dlt.error.type"
ERROR_MESSAGE = "dlt.error.message"
ATTEMPTS = "dlt.attempts"
# Set by `dead-letters replay` (deadletter_tool.py) on the copy it publishes to the original
# topic: `<dead-letter topic>/<partition>/<offset>` it came from, and when (ISO 8601, UTC).
REPLAYED_FROM = "dlt.replayed.from"
REPLAYED_AT = "dlt.replayed.at"

MAX_ERROR_TEXT = 1000
# Room for the record framing (lengths, varints, timestamps) besides keys and values.
_OVERHEAD_PER_HEADER = 10
_OVERHEAD = 128

Headers = list[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers


def _size(key: bytes | None, value: bytes | None, headers: Headers) -> int:
    sizes = (len(name.encode()) + len(data) + _OVERHEAD_PER_HEADER for name, data in headers)
    return _OVERHEAD + len(key or b"") + len(value or b"") + sum(sizes)


def dead_letter(
    record: Any,
    *,
    target: str,
    error_type: str,
    error_message: str,
    attempts: int,
    max_bytes: int,
    last_offset: int | None = None,
) -> DeadLetter:
    """The dead-letter copy of `record` for topic `target`, at most `max_bytes` in size."""
    ours: Headers = [
        (ORIGINAL_TOPIC, record.topic.encode()),
        (ORIGINAL_PARTITION, str(record.partition).encode()),
        (ORIGINAL_OFFSET, str(record.offset).encode()),
        (ERROR_TYPE, error_type.encode()),
        (ERROR_MESSAGE, error_message[:MAX_ERROR_TEXT].encode()),
        (ATTEMPTS, str(attempts).encode()),
    ]
    if last_offset is not None:
        ours.append((ORIGINAL_LAST_OFFSET, str(last_offset).encode()))
    # A record dead-lettered again (after a replay) carries only the latest reason.
    theirs: Headers = [
        (name, bytes(data or b""))
        for name, data in record.headers or ()
        if not name.startswith(PREFIX)
    ]
    key: bytes | None = record.key
    value: bytes | None = record.value
    if _size(key, value, ours + theirs) <= max_bytes:
        return DeadLetter(target, key, value, theirs + ours)
    original = value or b""
    ours += [
        (ORIGINAL_SIZE, str(len(original)).encode()),
        (ORIGINAL_SHA256, hashlib.sha256(original).hexdigest().encode()),
        (TRUNCATED, b"true"),
    ]
    if _size(key, b"", ours + theirs) > max_bytes:
        theirs = []
    if _size(key, b"", ours) > max_bytes:
        key = None
    room = max_bytes - _size(key, b"", ours + theirs)
    return DeadLetter(target, key, original[: max(room, 0)], theirs + ours)
