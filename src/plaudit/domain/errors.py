"""The one exception hierarchy of Plaudit.

    PlauditError                      root: anything Plaudit raises on purpose
    ├── ClientError                   the caller asked for something wrong (an HTTP 4xx)
    │   ├── InvalidRequest            malformed or semantically invalid input (400)
    │   │   └── InvalidEventData      event `data` fails its type's schema (400)
    │   ├── ValidationFailed          well-formed input that breaks a field rule (422)
    │   ├── AuthenticationFailed      missing, unknown or revoked credentials (401)
    │   ├── PermissionDenied          valid credentials without the needed scope (403)
    │   ├── NotFound                  no such resource in the caller's environment (404)
    │   ├── Conflict                  the request clashes with current state (409)
    │   ├── PayloadTooLarge           body over the configured limit (413)
    │   ├── RateLimited               too many requests for the key's limit (429)
    │   └── UnsupportedMediaType      wrong content type (415)
    └── ConfigurationError            operator settings that cannot work

Each ClientError carries a stable machine `code`, a human `message` and optional
`details`; the HTTP layer maps classes to statuses and renders
`{"error": {"code", "message", "details"}}`.
"""

from __future__ import annotations

from typing import Any


class PlauditError(Exception):
    """Root of every error Plaudit raises deliberately."""


class ConfigurationError(PlauditError):
    """Settings that cannot work; raised at start-up, never per request."""


class ClientError(PlauditError):
    default_code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.details = details


class InvalidRequest(ClientError):
    default_code = "invalid_request"


class InvalidEventData(InvalidRequest):
    default_code = "invalid_event_data"


class ValidationFailed(ClientError):
    default_code = "validation_error"


class AuthenticationFailed(ClientError):
    default_code = "unauthenticated"


class PermissionDenied(ClientError):
    default_code = "insufficient_scope"


class NotFound(ClientError):
    default_code = "not_found"


class Conflict(ClientError):
    default_code = "conflict"


class PayloadTooLarge(ClientError):
    default_code = "payload_too_large"


class UnsupportedMediaType(ClientError):
    default_code = "unsupported_media_type"


class RateLimited(ClientError):
    """Carries how long to wait, for the `Retry-After` header."""

    default_code = "rate_limited"

    def __init__(
        self,
        message: str,
        *,
        retry_after_s: int,
        headers: dict[str, str] | None = None,
        code: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.retry_after_s = retry_after_s
        self.headers = headers or {}
