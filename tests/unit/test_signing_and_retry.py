from __future__ import annotations

import random
import time
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from plaudit.domain.retry import (
    DEFAULT_SCHEDULE_S,
    bounded_retry_after,
    next_delay,
    validate_schedule,
)
from plaudit.domain.signing import delivery_headers, generate_secret, secret_key, sign


def test_signature_verifies_with_the_reference_library() -> None:
    secret = generate_secret()
    body = b'{"type":"badge.given","timestamp":"2026-12-04T00:00:00.000Z","data":{}}'
    now = int(time.time())
    headers = delivery_headers([secret_key(secret)], "msg_1", now, body)
    assert Webhook(secret).verify(body, headers) == {
        "type": "badge.given",
        "timestamp": "2026-12-04T00:00:00.000Z",
        "data": {},
    }


def test_a_tampered_body_fails_verification() -> None:
    secret = generate_secret()
    headers = delivery_headers([secret_key(secret)], "msg_1", int(time.time()), b"{}")
    with pytest.raises(Exception, match=r"(?i)signature"):
        Webhook(secret).verify(b'{"a":1}', headers)


def test_rotation_signs_with_every_key() -> None:
    old, new = generate_secret(), generate_secret()
    headers = delivery_headers([secret_key(new), secret_key(old)], "msg_1", int(time.time()), b"{}")
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(b"{}", headers)
    Webhook(new).verify(b"{}", headers)


def test_known_vector() -> None:
    # From the Standard Webhooks specification's example.
    key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    body = b'{"test": 2432232314}'
    assert sign(key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body) == (
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    )


@pytest.mark.parametrize("bad", ["secret", "whsec_", "whsec_!!!", "whsec_" + "QUJD" * 2])
def test_bad_secrets_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match=r"whsec_|bytes|base64|Incorrect|Non-base64"):
        secret_key(bad)


def test_default_schedule_is_ten_attempts_over_about_three_days() -> None:
    assert len(DEFAULT_SCHEDULE_S) == 10
    assert DEFAULT_SCHEDULE_S[:3] == (0, 5, 300)
    assert 2.9 < sum(DEFAULT_SCHEDULE_S) / 86400 < 3.3


def test_next_delay_has_bounded_jitter_and_ends() -> None:
    rng = random.Random(7)
    for attempts_made in range(1, 10):
        base = DEFAULT_SCHEDULE_S[attempts_made]
        delay = next_delay(DEFAULT_SCHEDULE_S, attempts_made, rng)
        assert delay is not None
        assert base * 0.9 <= delay.total_seconds() <= base * 1.1
    assert next_delay(DEFAULT_SCHEDULE_S, 10) is None
    assert next_delay((0,), 0) == timedelta(0)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("30", 30),
        ("0", 1),
        ("999999", 3600),
        ("2.5", 2.5),
        ("soon", None),
        (None, None),
        ("-4", None),
    ],
)
def test_retry_after_is_bounded(header: str | None, seconds: float | None) -> None:
    value = bounded_retry_after(header)
    assert (value.total_seconds() if value else None) == seconds


def test_user_schedules_are_checked() -> None:
    assert validate_schedule([0, 1, 2]) == (0.0, 1.0, 2.0)
    for bad in ([], [0] * 51, [0, -1], [0, 8 * 86400]):
        with pytest.raises(ValueError, match=r"delay|schedule"):
            validate_schedule(bad)
