"""Money as the API and the event catalog carry it: a decimal string and an ISO 4217 code.

Never a float. The amount is kept exactly as written once it passes the rule (no exponent,
no sign, no leading zeros), so what a client sends is what a voucher and its event show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from plaudit.domain.errors import ValidationFailed

# Up to 15 integer and 8 fraction digits: fits the 32-character column with room to spare.
_AMOUNT: Final = re.compile(r"(0|[1-9][0-9]{0,14})(\.[0-9]{1,8})?")
_CURRENCY: Final = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class Money:
    amount: str
    currency: str

    def to_json(self) -> dict[str, Any]:
        return {"amount": self.amount, "currency": self.currency}


def parse_money(amount: str, currency: str, *, field: str = "value") -> Money:
    """The checked amount and currency; ValidationFailed naming the bad part otherwise."""
    if not _AMOUNT.fullmatch(amount):
        raise ValidationFailed(
            f'{field}.amount must be a decimal string of 0 or more, like "25.00" '
            f"(no sign, exponent or leading zeros; at most 8 decimals); got {amount!r}",
            code="invalid_amount",
            details={"field": f"{field}.amount", "value": amount},
        )
    if not _CURRENCY.fullmatch(currency):
        raise ValidationFailed(
            f"{field}.currency must be an ISO 4217 code of three upper-case letters, "
            f'like "EUR"; got {currency!r}',
            code="invalid_currency",
            details={"field": f"{field}.currency", "value": currency},
        )
    return Money(amount=amount, currency=currency)
