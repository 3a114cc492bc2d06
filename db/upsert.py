"""Idempotent bulk upserts that work the same on SQLite and PostgreSQL.

``INSERT ... ON CONFLICT (natural key) DO UPDATE ... WHERE <something changed>``:
re-running a job with the same data inserts nothing and updates nothing, and
the returned counts say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, func, or_, select
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
) -> UpsertCounts:
    """Insert ``rows`` into ``table``; on a ``conflict`` key clash update the
    ``update`` columns only where a value differs.

    Returns how many rows were inserted, updated and left unchanged.
    """
    if not rows:
        return UpsertCounts()
    update_cols = list(update) if update is not None else [
        c for c in rows[0] if c not in conflict
    ]
    stmt = _insert(session, table)
    if update_cols:
        excluded = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=list(conflict),
            set_={c: excluded[c] for c in update_cols},
            where=or_(*[table.c[c].is_distinct_from(excluded[c]) for c in update_cols]),
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
    stmt = stmt.returning(list(table.primary_key.columns)[0])
    total = UpsertCounts()
    for i in range(0, len(rows), CHUNK):
        chunk = [dict(r) for r in rows[i : i + CHUNK]]
        before = _count_existing(session, table, conflict, chunk)
        # executemany with RETURNING: compiled once, sent as batched VALUES
        touched = len(session.execute(stmt, chunk).all())
        inserted = len(chunk) - before
        updated = touched - inserted
        total = total + UpsertCounts(inserted, updated, len(chunk) - inserted - updated)
    return total


def _count_existing(
    session: Session, table: Table, conflict: Sequence[str], chunk: Sequence[Mapping[str, Any]]
) -> int:
    """How many of ``chunk``'s natural keys already exist (one query).

    Columns of the key that are constant across the chunk (a symbol, a source)
    become equality tests, so the usual case is one indexed ``IN`` lookup.
    """
    keys = {tuple(r[c] for c in conflict) for r in chunk}
    constant = [i for i, _ in enumerate(conflict) if len({k[i] for k in keys}) == 1]
    varying = [i for i in range(len(conflict)) if i not in constant]
    first = next(iter(keys))
    conds = [_eq(table.c[conflict[i]], first[i]) for i in constant]
    if len(varying) == 1:
        j = varying[0]
        conds.append(table.c[conflict[j]].in_([k[j] for k in keys]))
    elif varying:
        conds.append(or_(*[
            and_(*[_eq(table.c[conflict[i]], k[i]) for i in varying]) for k in keys
        ]))
    return int(session.scalar(select(func.count()).select_from(table).where(*conds)) or 0)


def _eq(col, value):  # type: ignore[no-untyped-def]
    return col.is_(None) if value is None else col == value
