"""API key format and hashing.

A key is `pk_live_<43 chars>` (production) or `pk_test_<43 chars>` (staging): 256
random bits, so a fast SHA-256 digest is enough to store it (no slow KDF is needed
for secrets that cannot be guessed). Only the digest and a short display prefix are
kept; the key itself is shown once.
"""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum
from typing import Final


class Environment(StrEnum):
    PRODUCTION = "production"
    STAGING = "staging"


class Scope(StrEnum):
    ADMIN = "admin"
    EVENTS_WRITE = "events:write"
    CONNECT_READ = "connect:read"


_KEY_PREFIX: Final = {Environment.PRODUCTION: "pk_live_", Environment.STAGING: "pk_test_"}
DISPLAY_PREFIX_LENGTH: Final = 12


def generate_api_key(environment: Environment) -> str:
    return _KEY_PREFIX[environment] + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[:DISPLAY_PREFIX_LENGTH]


def looks_like_api_key(value: str) -> bool:
    return value.startswith(tuple(_KEY_PREFIX.values())) and len(value) > 20
