"""Idempotent bulk upserts that work the same on SQLite and PostgreSQL.

``INSERT ... ON CONFLICT (natural key) DO UPDATE ... WHERE <something changed>``:
re-running a job with the same data inserts nothing and updates nothing, and
the returned counts say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Table, Text, cast, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

#: Rows per statement; keeps SQLite well under its bound-parameter limit.
CHUNK = 2000


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


def _insert(session: Session, table: Table):  # type: ignore[no-untyped-def]
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"upserts are implemented for SQLite and PostgreSQL, not {name}")


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: Sequence[str],
    update: Iterable[str] | None = None,
    compare: Iterable[str] | None = None,
) -> UpsertCounts:
    """Insert ``rows`` into ``table``; on a ``conflict`` key clash update the
    ``update`` columns only where one of the ``compare`` columns (default: the
    ``update`` columns) differs, so bookkeeping columns such as ``computed_at``
    can be refreshed along with a changed value without forcing a rewrite.

    Returns how many rows were inserted, updated and left unchanged.
    """
    if not rows:
        return UpsertCounts()
    update_cols = list(update) if update is not None else [
        c for c in rows[0] if c not in conflict
    ]
    compare_cols = list(compare) if compare is not None else update_cols
    stmt = _insert(session, table)
    if update_cols:
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=list(conflict),
            set_={c: excluded[c] for c in update_cols},
            where=or_(*[_changed(table.c[c], excluded[c]) for c in compare_cols]),
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
    stmt = stmt.returning(next(iter(table.primary_key.columns)))
    total = UpsertCounts()
    for i in range(0, len(rows), CHUNK):
        chunk = [dict(r) for r in rows[i : i + CHUNK]]
        scope = _scope(table, conflict, chunk)
        before = _count(session, table, scope)
        # executemany with RETURNING: compiled once, sent as batched VALUES
        touched = len(session.execute(stmt, chunk).all())
        inserted = _count(session, table, scope) - before
        updated = touched - inserted
        total = total + UpsertCounts(inserted, updated, len(chunk) - inserted - updated)
    return total


def _scope(table: Table, conflict: Sequence[str], chunk: Sequence[Mapping[str, Any]]) -> list:
    """Tests that every row of ``chunk`` passes: equality on the key columns
    that are constant across it (a symbol, a source, a CIK) and a range on
    the others (dates). Counting rows in that scope before and after the
    insert gives the number inserted, inside the same transaction, and costs
    the chunk's span, not the table's size."""
    conds = []
    for c in conflict:
        values = {r[c] for r in chunk}
        if len(values) == 1:
            v = values.pop()
            conds.append(table.c[c].is_(None) if v is None else table.c[c] == v)
        elif None not in values:
            try:
                lo, hi = min(values), max(values)
            except TypeError:  # values of mixed types have no order
                continue
            conds.append(table.c[c].between(lo, hi))
    return conds


def _count(session: Session, table: Table, scope: list) -> int:
    return int(session.scalar(select(func.count()).select_from(table).where(*scope)) or 0)


def _changed(col, new):  # type: ignore[no-untyped-def]
    """Null-safe "value differs"; JSON is compared as text (PostgreSQL has no
    equality operator for ``json``)."""
    if isinstance(col.type, JSON):
        return cast(col, Text).is_distinct_from(cast(new, Text))
    return col.is_distinct_from(new)
