"""PostgreSQL: a batch's rows found by their whole unique key, one value at a time.

`scope = :scope AND key = ANY(:values)` lets the planner read the scope's rows through
the key's index prefix and filter them against the list. It does so when the table has
outgrown its statistics (a bulk load: autovacuum analyzes a minute later at best), which
turns every batch's lookup into a scan of the scope: 380 ms per batch of 100 at 100 000
transactions. Driven from the values through a LATERAL join, each lookup names the whole
key, and nothing but the key's index can serve it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Table, TextClause, text
from sqlalchemy.sql.selectable import TextualSelect


def rows_by_key(
    table: Table, scope: Sequence[str], key: str, *, values: str, lock: bool = False
) -> TextualSelect:
    """The rows of `table` whose `scope` columns equal the parameters of the same names
    and whose `key` (unique within the scope) is one of the text array `values`; with
    `lock`, FOR UPDATE, in the order of `values`."""
    conditions = " AND ".join(f"{column} = :{column}" for column in scope)
    sql: TextClause = text(
        f"SELECT t.* FROM unnest(CAST(:{values} AS varchar[])) AS k(value) "  # noqa: S608
        f"CROSS JOIN LATERAL (SELECT * FROM {table.name} "
        f"WHERE {conditions} AND {key} = k.value LIMIT 1{' FOR UPDATE' if lock else ''}) AS t"
    )
    return sql.columns(*table.c)
