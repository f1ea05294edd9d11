"""HMAC-SHA256 signatures of webhook deliveries.

The receiver recomputes `HMAC-SHA256(secret, f"{timestamp}.{body}")` over the raw body and
the `X-Video-Pipeline-Timestamp` header, compares it in constant time with the hex digest
after `v1=` in `X-Video-Pipeline-Signature`, and refuses timestamps too far from its clock.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Video-Pipeline-Signature"
TIMESTAMP_HEADER = "X-Video-Pipeline-Timestamp"
EVENT_ID_HEADER = "X-Video-Pipeline-Event-Id"
EVENT_TYPE_HEADER = "X-Video-Pipeline-Event"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + digest.hexdigest()


def verify(
    secret: str, timestamp: int, body: bytes, header: str, now: float, tolerance: float = 300
) -> bool:
    """What a receiver does; the tests' receiver uses it."""
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)
