"""Entity tags and `If-None-Match` (RFC 9110, sections 8.8.3 and 13.1.2).

The tag is strong: a digest of the exact response body, so equal tags mean equal bytes.
`If-None-Match` compares weakly (a `W/` prefix is ignored), `*` matches any current
representation, and a malformed header matches nothing (the full response is sent).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

# entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE ; etagc = %x21 / %x23-7E / obs-text
_TAG = re.compile(r'\s*(?:W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')


def strong_etag(body: bytes) -> str:
    digest = hashlib.sha256(body).digest()[:18]
    return '"' + base64.urlsafe_b64encode(digest).decode() + '"'


def none_match(header_values: Iterable[str], etag: str) -> bool:
    """True when an `If-None-Match` (all its field lines) matches `etag`: answer 304."""
    for value in header_values:
        if value.strip() == "*":
            return True
        if etag in _opaque_tags(value):
            return True
    return False


def _opaque_tags(value: str) -> list[str]:
    tags: list[str] = []
    position = 0
    text = value.strip()
    while position < len(text):
        found = _TAG.match(text, position)
        if found is None:
            return []  # malformed: the header is ignored as a whole
        tags.append(found.group(1))
        position = found.end()
    return tags
