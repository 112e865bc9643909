"""Voucher codes (format, alphabet, uniqueness, typing slips), voucher expiry and the money rule."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from plaudit.domain.errors import ValidationFailed
from plaudit.engagement.money import Money, parse_money
from plaudit.engagement.vouchers import (
    ALPHABET,
    new_voucher_code,
    normalize_code,
    voucher_expiry,
)

CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}")


def test_codes_are_four_groups_of_four_crockford_characters() -> None:
    for _ in range(200):
        code = new_voucher_code()
        assert CODE.fullmatch(code), code
        assert not set(code) & set("ILOU")


def test_codes_do_not_repeat_and_use_the_whole_alphabet() -> None:
    codes = [new_voucher_code() for _ in range(20_000)]
    assert len(set(codes)) == len(codes)
    seen = set("".join(codes).replace("-", ""))
    assert seen == set(ALPHABET)
    # Each position is uniform over 32 symbols: no symbol is far off its 1/32 share.
    firsts = [code[0] for code in codes]
    for symbol in ALPHABET:
        assert 0.5 < firsts.count(symbol) / (len(codes) / 32) < 1.5, symbol


def test_a_code_typed_with_the_usual_slips_normalizes_back() -> None:
    code = "7KQ2-MX41-9TZ0-A1B3"
    assert normalize_code("7kq2 mx4l 9tzo a1b3") == code
    assert normalize_code("7KQ2MX4I9TZOA1B3") == code
    assert normalize_code(code) == code


def test_expiry_is_the_end_of_the_last_valid_day_in_utc() -> None:
    issued = datetime(2026, 11, 20, 17, 21, 4, tzinfo=UTC)
    assert voucher_expiry(issued, 365) == datetime(2027, 11, 20, 23, 59, 59, tzinfo=UTC)
    assert voucher_expiry(issued, 1) == datetime(2026, 11, 21, 23, 59, 59, tzinfo=UTC)
    assert voucher_expiry(issued, None) is None
    # An instant given in another zone counts by its UTC date.
    paris_evening = datetime(2026, 11, 21, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    assert voucher_expiry(paris_evening, 1) == datetime(2026, 11, 21, 23, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize("amount", ["0", "25", "25.00", "0.5", "999999999999999.12345678"])
def test_good_amounts_are_kept_exactly(amount: str) -> None:
    assert parse_money(amount, "EUR") == Money(amount, "EUR")
    assert parse_money(amount, "EUR").to_json() == {"amount": amount, "currency": "EUR"}


@pytest.mark.parametrize(
    "amount",
    [
        "",
        "-1",
        "+1",
        "1e3",
        "NaN",
        "Infinity",
        "01",
        "1.",
        ".5",
        "1,00",
        " 1",
        "1.123456789",
        "1234567890123456",
        "١٢",  # Arabic-Indic digits: Python's Decimal takes them, the catalog's pattern does not
    ],
)
def test_bad_amounts_are_refused_naming_the_field(amount: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_money(amount, "EUR", field="value")
    assert refused.value.code == "invalid_amount"
    assert refused.value.details["field"] == "value.amount"
    assert "value.amount" in refused.value.message


@pytest.mark.parametrize("currency", ["", "eur", "EURO", "EU", "E1R", "ÉUR", "EUR "])
def test_bad_currencies_are_refused(currency: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        parse_money("1.00", currency)
    assert refused.value.code == "invalid_currency"
    assert refused.value.details["field"] == "value.currency"
