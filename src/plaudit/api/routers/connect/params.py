"""Query and path parameters every Connect route spells the same way."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from plaudit.api.schemas import PageCursor, PageLimit
from plaudit.store.pagination import DEFAULT_PAGE_SIZE

# The admin API's pagination, under the names the Connect routers use.
Limit = PageLimit
Cursor = PageCursor
PathId = Annotated[str, Path(min_length=1, max_length=64)]
FilterId = Annotated[str | None, Query(min_length=1, max_length=64)]
DEFAULT_LIMIT = DEFAULT_PAGE_SIZE
