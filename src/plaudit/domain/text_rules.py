"""Strings both databases can store and compare.

PostgreSQL refuses NUL in any text parameter and the drivers refuse lone surrogates; left
alone either turns a client's odd input into a 500. Ids in URLs and filters that break
the rule cannot name anything (404 or an empty list); body fields are refused (422).
"""

from __future__ import annotations


def text_problem(value: str) -> str | None:
    """Why `value` cannot be stored as text, or None when it can."""
    if "\x00" in value:
        return "must not contain NUL (\\u0000) characters"
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            return "must be valid Unicode (no lone surrogates)"
    return None


def can_name_anything(identifier: str) -> bool:
    """False for an id no row can have; callers answer as for an unknown id."""
    return text_problem(identifier) is None
