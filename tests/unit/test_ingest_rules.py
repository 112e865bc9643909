"""Pure rules of the inbound side: verification, parsing, dedupe keys, record schemas."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from plaudit.ingest.dedupe import (
    DEDUPE,
    KeyMissing,
    path_steps,
    record_key,
    request_key,
)
from plaudit.ingest.parsing import BodyRejected, parse_body
from plaudit.ingest.records import RecordInvalid, TransactionRecord, validate_record
from plaudit.ingest.verification import (
    VERIFICATION,
    SourceSecret,
    VerificationFailed,
    verify,
    with_rotation,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _scheme(**config: Any) -> Any:
    secrets = config.pop("secrets", ("s" * 20,))
    scheme = VERIFICATION.validate_python(config)
    return scheme.model_copy(update={"secrets": tuple(SourceSecret(value=s) for s in secrets)})


def _sig(secret: str, content: bytes) -> str:
    return hmac.new(secret.encode(), content, hashlib.sha256).hexdigest()


def test_hmac_verifies_with_any_live_secret_and_fails_closed() -> None:
    scheme = _scheme(type="hmac", secrets=("a" * 20, "b" * 20))
    body = b'{"x": 1}'
    for secret in ("a" * 20, "b" * 20):
        verify(scheme, {"x-signature": _sig(secret, body)}, body, NOW)
    for headers in ({}, {"x-signature": "zz"}, {"x-signature": _sig("c" * 20, body)}):
        with pytest.raises(VerificationFailed):
            verify(scheme, headers, body, NOW)
    nothing_live = scheme.model_copy(update={"secrets": ()})
    with pytest.raises(VerificationFailed) as caught:
        verify(nothing_live, {"x-signature": _sig("a" * 20, body)}, body, NOW)
    assert caught.value.code == "no_live_secret"


def test_rotation_expires_old_secrets_after_the_overlap() -> None:
    scheme = _scheme(type="api_key")
    rotated = with_rotation(scheme, "n" * 20, NOW, overlap_s=60)
    assert rotated.live_secrets(NOW) == ["n" * 20, "s" * 20]
    assert rotated.live_secrets(NOW + timedelta(seconds=61)) == ["n" * 20]
    twice = with_rotation(rotated, "m" * 20, NOW, overlap_s=3600)
    # A second rotation never extends an older secret's life.
    assert twice.secrets[2].expires_at == NOW + timedelta(seconds=60)


def test_timestamped_hmac_and_tolerance() -> None:
    scheme = _scheme(type="hmac", signed_content="timestamp.body", tolerance_s=10)
    body = b"{}"
    stamp = int(NOW.timestamp())
    headers = {"x-signature": _sig("s" * 20, b"%d.%s" % (stamp, body)), "x-timestamp": str(stamp)}
    verify(scheme, headers, body, NOW)
    with pytest.raises(VerificationFailed) as caught:
        verify(scheme, headers, body, NOW + timedelta(seconds=11))
    assert caught.value.code == "stale_timestamp"


def test_basic_auth_rejects_garbage_without_raising_anything_else() -> None:
    scheme = _scheme(type="basic_auth", username="crm")
    good = base64.b64encode(b"crm:" + b"s" * 20).decode()
    verify(scheme, {"authorization": f"Basic {good}"}, b"", NOW)
    for value in ("Basic !!!", "Bearer x", f"Basic {base64.b64encode(b'nocolon').decode()}", ""):
        with pytest.raises(VerificationFailed):
            verify(scheme, {"authorization": value}, b"", NOW)


@pytest.mark.parametrize(
    ("content_type", "body", "count"),
    [
        ("application/json", b'{"a": 1}', 1),
        ("application/json", b'[{"a": 1}, {"a": 2}]', 2),
        ("application/json", b'{"records": [{"a": 1}]}', 1),
        ("application/json", b'{"records": [{"a": 1}], "other": 1}', 1),  # an ordinary object
        ("application/x-ndjson", b'{"a": 1}\n{"a": 2}', 2),
        ("text/csv", b"a,b\n1,2\n", 1),
    ],
)
def test_body_formats(content_type: str, body: bytes, count: int) -> None:
    assert len(parse_body(content_type, body)) == count


@pytest.mark.parametrize(
    ("content_type", "body", "nul_at"),
    [
        ("application/json", b'[{"a": "x"}, {"a": "\\u0000"}]', [1]),
        ("application/json", b'[{"\\u0000": 1}, {"a": 2}]', [0]),
        ("application/json", b'{"a": {"b": ["\\u0000"]}}', [0]),
        ("application/x-ndjson", b'{"a": 1}\n{"a": "x\\u0000"}', [1]),
        ("text/csv", b"a,b\n1,2\n3,\x00\n", [1]),
        # An escaped backslash before "u0000" is text, not a NUL: the record loads.
        ("application/json", b'[{"a": "\\\\u0000"}]', []),
    ],
)
def test_records_holding_a_nul_are_unreadable(
    content_type: str, body: bytes, nul_at: list[int]
) -> None:
    parsed = parse_body(content_type, body)
    assert [n for n, record in enumerate(parsed) if record.value is None] == nul_at
    for n in nul_at:
        assert "NUL" in str(parsed[n].error)


def test_csv_keeps_cells_as_text_and_rejects_short_rows() -> None:
    first, short = parse_body("text/csv", b"id,amount\n7,12.50\n8\n")
    assert first.value == {"id": "7", "amount": "12.50"}
    assert short.value is None
    assert short.error is not None


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("application/json", b"{"), ("application/json", b"  "), ("text/csv", b""),
     ("application/xml", b"<a/>"), ("application/x-ndjson", b"\n\n")],
)  # fmt: skip
def test_unreadable_bodies(content_type: str, body: bytes) -> None:
    with pytest.raises(BodyRejected):
        parse_body(content_type, body)


def test_dedupe_keys() -> None:
    header = DEDUPE.validate_python({"type": "header", "header": "Idempotency-Key"})
    key = request_key(header, {"idempotency-key": "abc"}, b"")
    assert record_key(header, key, {}, 3) == "h:abc#3"
    with pytest.raises(KeyMissing):
        record_key(header, request_key(header, {}, b""), {}, 0)
    path = DEDUPE.validate_python({"type": "path", "path": '$.meta["event id"]'})
    assert record_key(path, None, {"meta": {"event id": 5}}, 0) == "p:5"
    with pytest.raises(KeyMissing):
        record_key(path, None, {"meta": {}}, 0)
    assert path_steps("$.a[2].b") == ["a", 2, "b"]
    for bad in ("a.b", "$", "$.", "$..a", "$[x]"):
        with pytest.raises(ValueError, match="path"):
            path_steps(bad)


def test_transaction_schema() -> None:
    record = validate_record(
        "transaction",
        {
            "external_id": "D-1",
            "employee": {"email": "a@x.io"},
            "metric": "revenue",
            "value": 0.1,
            "occurred_at": "2026-01-01T00:00:00Z",
        },
    )
    assert isinstance(record, TransactionRecord)
    assert record.value == Decimal("0.1")
    assert validate_record("transaction", {"external_id": "D-1", "action": "delete"})
    problems = [
        ({"external_id": "D"}, "$"),
        ({"external_id": "D", "employee": {"email": "a", "id": "b"}, "metric": "m",
          "value": 1, "occurred_at": "2026-01-01T00:00:00Z"}, "$.employee"),
        ({"external_id": "D", "employee": {"id": "b"}, "metric": "m", "value": "NaN",
          "occurred_at": "2026-01-01T00:00:00Z"}, "$.value"),
        ({"external_id": "D", "employee": {"id": "b"}, "metric": "m", "value": 1,
          "occurred_at": "2026-01-01T00:00:00"}, "$.occurred_at"),
        ({"external_id": "D", "action": "upsert"}, "$.action"),
        ({"external_id": "D", "surprise": 1}, "$.surprise"),
    ]  # fmt: skip
    for output, path in problems:
        with pytest.raises(RecordInvalid) as caught:
            validate_record("transaction", output)
        assert caught.value.path == path, (output, caught.value)
    for nothing in (None, [], "x"):
        with pytest.raises(RecordInvalid):
            validate_record("transaction", nothing)
