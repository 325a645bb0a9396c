# Managed by copier-python-service. Do not edit: changes are overwritten by `copier update`.
"""Which outbound calls are retried, and what a `Retry-After` header asks for.

Only idempotent methods are retried (a POST may have had its effect before the answer was
lost), and only on outcomes that say "try again": the connection failed, or the answer is
502, 503, 504 or 429. The delay is the service's one backoff policy (`_platform/backoff.py`),
or longer when the dependency's `Retry-After` says so.
"""

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# Statuses that say "wait this long" in `Retry-After` (RFC 9110 section 10.2.3).
RETRY_AFTER_STATUSES = frozenset({429, 503})


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delay-seconds or an HTTP date); None when
    absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
