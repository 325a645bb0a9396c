# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""The versioned event envelope every service publishes and consumes.

The event id is deterministic: a UUIDv5 over the event type and the canonical JSON of the
business payload only (never the id itself, the time, the source or the correlation id), so
publishing the same business fact twice gives the same id and the inbox drops the second.
"""

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

# Namespace of event ids; fixed forever, changing it changes every id.
EVENT_ID_NAMESPACE = uuid.UUID("6f1c1b5e-5d0a-4f37-9a43-2b5f0c7c8e11")
CORRELATION_ID_HEADER = "x-correlation-id"
EVENT_TYPE_HEADER = "x-event-type"


class Envelope(BaseModel):
    """Version 1 of the envelope. Unknown fields are ignored so producers can add some."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    version: Literal[1] = 1
    id: uuid.UUID
    type: str = Field(min_length=1)
    time: AwareDatetime
    source: str
    correlation_id: str | None = None
    payload: dict[str, Any]


def canonical_json(payload: dict[str, Any]) -> bytes:
    """Key-sorted, whitespace-free JSON: the same data always gives the same bytes."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_id(event_type: str, payload: dict[str, Any]) -> uuid.UUID:
    """Deterministic id of a business event (type + payload, no envelope metadata)."""
    return uuid.uuid5(EVENT_ID_NAMESPACE, event_type + "\n" + canonical_json(payload).decode())


def make_envelope(
    event_type: str,
    payload: BaseModel | dict[str, Any],
    *,
    source: str,
    correlation_id: str | None = None,
    time: datetime | None = None,
) -> Envelope:
    """Wrap a business payload in an envelope with its deterministic id."""
    data = payload.model_dump(mode="json") if isinstance(payload, BaseModel) else dict(payload)
    return Envelope(
        id=event_id(event_type, data),
        type=event_type,
        time=time or datetime.now(UTC),
        source=source,
        correlation_id=correlation_id,
        payload=data,
    )


def encode(envelope: Envelope) -> bytes:
    """The bytes of a Kafka record value."""
    return envelope.model_dump_json().encode()


def decode(value: bytes | None) -> Envelope:
    """Parse a Kafka record value; raises pydantic.ValidationError when it is not an envelope."""
    return Envelope.model_validate_json(value or b"")
