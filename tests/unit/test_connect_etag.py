"""Entity tags and If-None-Match matching (RFC 9110)."""

from __future__ import annotations

import pytest

from plaudit.connect.etag import none_match, strong_etag

TAG = strong_etag(b'{"a":1}')


def test_strong_etag_is_a_quoted_digest_of_the_bytes() -> None:
    assert TAG.startswith('"')
    assert TAG.endswith('"')
    assert "W/" not in TAG
    assert strong_etag(b'{"a":1}') == TAG
    assert strong_etag(b'{"a":2}') != TAG
    assert strong_etag(b'{"a": 1}') != TAG  # bytes, not meaning


@pytest.mark.parametrize(
    "header",
    [TAG, f"W/{TAG}", f'"x", {TAG}', f'"x",{TAG}', "*", f" {TAG} ", f'"x" , W/{TAG}', f"{TAG},"],
)
def test_matching_conditions(header: str) -> None:
    assert none_match([header], TAG)


@pytest.mark.parametrize(
    "header",
    ['"x"', "", "x", TAG[1:], TAG[:-1], f"{TAG} junk", f"w/{TAG}", f'"x", {TAG[1:]}', "**"],
)
def test_non_matching_or_malformed_conditions(header: str) -> None:
    assert not none_match([header], TAG)


def test_several_header_lines_are_one_list() -> None:
    assert none_match(['"x"', TAG], TAG)
    assert not none_match(['"x"', '"y"'], TAG)
    assert not none_match([], TAG)
