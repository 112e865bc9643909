"""Verifying inbound requests on their raw bytes, failing closed.

A source names exactly one scheme; anything else is refused when the source is created (there
is no silent "no verification" fallback: `none` must be chosen explicitly, and then the
unguessable URL is the only credential). Every comparison is constant-time. Several secrets
may be live at once during a rotation; a secret past its `expires_at` no longer verifies.

Schemes:
* `hmac`: HMAC-SHA256/512 of the body (or of `"{timestamp}.{body}"`), hex or base64, in a
  header, optionally behind a prefix such as `sha256=` (GitHub, Shopify, Stripe-like senders).
* `standard_webhooks`: the Standard Webhooks spec (`webhook-id`, `webhook-timestamp`,
  `webhook-signature: v1,<sig> ...`), the same scheme Plaudit signs its own deliveries with.
* `basic_auth`: `Authorization: Basic` with a username and password.
* `api_key`: a shared key in a named header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from plaudit.domain import signing


class VerificationFailed(Exception):
    """The request does not prove it comes from the source's sender (answered 401)."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class SourceSecret(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    value: str
    expires_at: datetime | None = None  # set on the old secret when a rotation starts

    def live(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at


class _Scheme(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    secrets: tuple[SourceSecret, ...] = ()

    def live_secrets(self, now: datetime) -> list[str]:
        return [s.value for s in self.secrets if s.live(now)]


class NoVerification(_Scheme):
    type: Literal["none"]


class HmacVerification(_Scheme):
    type: Literal["hmac"]
    algorithm: Literal["sha256", "sha512"] = "sha256"
    encoding: Literal["hex", "base64"] = "hex"
    header: str = Field(default="x-signature", min_length=1, max_length=100)
    prefix: str = Field(default="", max_length=40)  # e.g. "sha256="
    signed_content: Literal["body", "timestamp.body"] = "body"
    timestamp_header: str | None = Field(default=None, min_length=1, max_length=100)
    tolerance_s: int = Field(default=300, ge=1, le=86_400)


class StandardWebhooksVerification(_Scheme):
    type: Literal["standard_webhooks"]
    tolerance_s: int = Field(default=300, ge=1, le=86_400)


class BasicAuthVerification(_Scheme):
    type: Literal["basic_auth"]
    username: str = Field(min_length=1, max_length=200)


class ApiKeyVerification(_Scheme):
    type: Literal["api_key"]
    header: str = Field(default="x-api-key", min_length=1, max_length=100)


Verification = Annotated[
    NoVerification
    | HmacVerification
    | StandardWebhooksVerification
    | BasicAuthVerification
    | ApiKeyVerification,
    Field(discriminator="type"),
]
VERIFICATION: TypeAdapter[Verification] = TypeAdapter(Verification)


def new_secret(scheme: Verification) -> str:
    """A fresh secret in the form the scheme's senders expect."""
    if isinstance(scheme, StandardWebhooksVerification):
        return signing.generate_secret()
    return secrets.token_urlsafe(32)


def check_secret(scheme: Verification, value: str) -> None:
    """Raise ValueError when a customer-given secret cannot work with the scheme."""
    if isinstance(scheme, StandardWebhooksVerification):
        signing.secret_key(value)
    elif len(value) < 16:
        raise ValueError("secrets are at least 16 characters")


def verify(scheme: Verification, headers: Mapping[str, str], body: bytes, now: datetime) -> None:
    """Return when the request is authentic; raise VerificationFailed saying why not.

    `headers` has lower-case names. Never raises anything else for any input.
    """
    if isinstance(scheme, NoVerification):
        return
    live = scheme.live_secrets(now)
    if not live:
        raise VerificationFailed("no_live_secret", "the source has no live secret")
    if isinstance(scheme, HmacVerification):
        _verify_hmac(scheme, live, headers, body, now)
    elif isinstance(scheme, StandardWebhooksVerification):
        _verify_standard(scheme, live, headers, body, now)
    elif isinstance(scheme, BasicAuthVerification):
        _verify_basic(scheme, live, headers)
    else:
        _verify_api_key(scheme, live, headers)


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name.lower())
    if value is None or value == "":
        raise VerificationFailed("missing_signature", f"the {name} header is missing")
    return value


def _timestamp(value: str, tolerance_s: int, now: datetime) -> int:
    try:
        stamp = int(value)
    except ValueError:
        raise VerificationFailed("invalid_timestamp", "the timestamp is not unix seconds") from None
    if abs(now.timestamp() - stamp) > tolerance_s:
        raise VerificationFailed(
            "stale_timestamp", f"the timestamp is more than {tolerance_s} s from now"
        )
    return stamp


def _verify_hmac(
    scheme: HmacVerification,
    live: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> None:
    given = _header(headers, scheme.header).strip()
    if scheme.prefix:
        if not given.startswith(scheme.prefix):
            raise VerificationFailed("invalid_signature", f"the signature lacks {scheme.prefix!r}")
        given = given[len(scheme.prefix) :]
    try:
        given_bytes = (
            bytes.fromhex(given)
            if scheme.encoding == "hex"
            else base64.b64decode(given, validate=True)
        )
    except (ValueError, binascii.Error):
        raise VerificationFailed(
            "invalid_signature", f"the signature is not {scheme.encoding}"
        ) from None
    content = body
    if scheme.signed_content == "timestamp.body":
        header = scheme.timestamp_header or "x-timestamp"
        stamp = _timestamp(_header(headers, header), scheme.tolerance_s, now)
        content = b"%d.%s" % (stamp, body)
    digest = hashlib.sha256 if scheme.algorithm == "sha256" else hashlib.sha512
    matched = False
    for secret in live:  # every secret is tried: no early exit that timing could reveal
        expected = hmac.new(secret.encode(), content, digest).digest()
        matched |= hmac.compare_digest(expected, given_bytes)
    if not matched:
        raise VerificationFailed("invalid_signature", "the signature does not match")


def _verify_standard(
    scheme: StandardWebhooksVerification,
    live: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> None:
    message_id = _header(headers, "webhook-id")
    stamp = _timestamp(_header(headers, "webhook-timestamp"), scheme.tolerance_s, now)
    offered = [
        part.partition(",")[2].encode()
        for part in _header(headers, "webhook-signature").split()
        if part.startswith("v1,")
    ]
    matched = False
    for secret in live:
        expected = signing.sign(signing.secret_key(secret), message_id, stamp, body)[3:].encode()
        for candidate in offered:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise VerificationFailed("invalid_signature", "no v1 signature matches")


def _verify_basic(
    scheme: BasicAuthVerification, live: Sequence[str], headers: Mapping[str, str]
) -> None:
    value = _header(headers, "authorization")
    kind, _, encoded = value.partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True)
    except (ValueError, binascii.Error):
        decoded = b""
    if kind.lower() != "basic" or b":" not in decoded:
        raise VerificationFailed("invalid_credentials", "expected Authorization: Basic")
    user, _, password = decoded.partition(b":")
    matched = False
    for secret in live:
        ok_user = hmac.compare_digest(user, scheme.username.encode())
        matched |= ok_user & hmac.compare_digest(password, secret.encode())
    if not matched:
        raise VerificationFailed("invalid_credentials", "wrong username or password")


def _verify_api_key(
    scheme: ApiKeyVerification, live: Sequence[str], headers: Mapping[str, str]
) -> None:
    given = _header(headers, scheme.header).encode()
    matched = False
    for secret in live:
        matched |= hmac.compare_digest(given, secret.encode())
    if not matched:
        raise VerificationFailed("invalid_credentials", f"wrong key in {scheme.header}")


def with_rotation(scheme: Verification, new: str, now: datetime, overlap_s: int) -> Verification:
    """The scheme with `new` as its first secret; live old ones expire after the overlap."""
    expiry = now + timedelta(seconds=overlap_s)
    kept = [
        SourceSecret(value=s.value, expires_at=min(s.expires_at or expiry, expiry))
        for s in scheme.secrets
        if s.live(now)
    ]
    return scheme.model_copy(update={"secrets": (SourceSecret(value=new), *kept)})


def public_view(scheme: Verification) -> dict[str, Any]:
    """The scheme as the API shows it after creation: secrets masked."""
    shown = scheme.model_dump(mode="json")
    shown["secrets"] = [
        {"hint": s.value[:6] + "...", "expires_at": shown_secret["expires_at"]}
        for s, shown_secret in zip(scheme.secrets, shown["secrets"], strict=True)
    ]
    return shown
