"""Query and path parameters every Connect route spells the same way."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from plaudit.store.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

Limit = Annotated[
    int, Query(ge=1, le=MAX_PAGE_SIZE, description=f"Page size, 1 to {MAX_PAGE_SIZE}")
]
Cursor = Annotated[
    str | None, Query(max_length=512, description="`next_cursor` of the previous page")
]
PathId = Annotated[str, Path(min_length=1, max_length=64)]
FilterId = Annotated[str | None, Query(min_length=1, max_length=64)]
DEFAULT_LIMIT = DEFAULT_PAGE_SIZE
