"""Validation of endpoint settings that needs no database: headers, shaping, limits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from plaudit.domain.errors import ValidationFailed

# Headers the transport or the signature own; a user value would break delivery or trust.
_RESERVED_HEADERS: Final = frozenset(
    {
        "host", "content-length", "content-type", "transfer-encoding", "connection",
        "keep-alive", "upgrade", "te", "trailer", "expect", "proxy-authorization",
        "proxy-connection", "user-agent",
    }
)  # fmt: skip
_RESERVED_PREFIXES: Final = ("webhook-", "plaudit-")
_TOKEN: Final = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$")
MAX_HEADERS: Final = 20


def validate_headers(headers: Mapping[str, str]) -> dict[str, str]:
    if len(headers) > MAX_HEADERS:
        raise ValidationFailed(f"at most {MAX_HEADERS} custom headers", code="invalid_headers")
    clean: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if not _TOKEN.match(name):
            raise ValidationFailed(f"{name!r} is not a valid header name", code="invalid_headers")
        if lowered in _RESERVED_HEADERS or lowered.startswith(_RESERVED_PREFIXES):
            raise ValidationFailed(
                f"header {name!r} is set by Plaudit and cannot be configured",
                code="reserved_header",
                details={"header": name},
            )
        if len(value) > 1000 or any(ch in value for ch in "\r\n\0"):
            raise ValidationFailed(
                f"header {name!r} has an invalid value (line breaks, NUL or over 1000 chars)",
                code="invalid_headers",
            )
        if lowered in clean:
            raise ValidationFailed(f"header {name!r} is given twice", code="invalid_headers")
        clean[lowered] = value
    return clean
