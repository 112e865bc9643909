"""The Standard Webhooks signature scheme (`webhook-id`, `webhook-timestamp`, `webhook-signature`).

Signed content is `"{id}.{timestamp}.{body}"`, HMAC-SHA256 with the secret's key bytes,
base64, as `v1,<sig>`; during a rotation every live secret signs and the values are
space-separated so receivers holding either secret verify.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Sequence
from typing import Final

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a format prefix, not a secret
SECRET_KEY_BYTES: Final = 32


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_KEY_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key behind a `whsec_` secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError("webhook secrets start with whsec_")
    key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    if not 24 <= len(key) <= 64:
        raise ValueError("webhook secret keys are 24 to 64 bytes")
    return key


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = b"%s.%d.%s" % (message_id.encode(), timestamp, body)
    digest = hmac.digest(key, signed, "sha256")  # the one-shot C path
    return "v1," + base64.b64encode(digest).decode()


def signature_header(keys: Sequence[bytes], message_id: str, timestamp: int, body: bytes) -> str:
    return " ".join(sign(key, message_id, timestamp, body) for key in keys)


def delivery_headers(
    keys: Sequence[bytes], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(keys, message_id, timestamp, body),
    }
