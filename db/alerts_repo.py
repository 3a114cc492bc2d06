"""Reads and writes of the alert tables (state, events, outbox).

Same conventions as :mod:`db.repo`: session first, ``select()``/``update()``,
never commit. Outbox transitions are guarded ``UPDATE ... WHERE status = ...``
statements that return how many rows they changed, so two senders can never
both claim the same delivery.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from db.alerts_models import AlertDelivery, AlertEvent, AlertState
from db.upsert import upsert

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"


def aware(dt: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; every stored instant is UTC."""
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=UTC)


# --------------------------------------------------------------------------- state
def alert_states(session: Session, rule_ids: Collection[str] | None = None) -> list[AlertState]:
    q = select(AlertState).order_by(AlertState.rule_id, AlertState.key)
    if rule_ids is not None:
        q = q.where(AlertState.rule_id.in_(list(rule_ids)))
    return list(session.scalars(q))


def save_states(session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Upsert ``rule_id, key, rule_hash, condition, as_of, value, last_fired``."""
    if not rows:
        return 0
    now = datetime.now(UTC)
    full = [{**r, "updated_at": now} for r in rows]
    counts = upsert(
        session, AlertState.__table__, full, ["rule_id", "key"],
        ["rule_hash", "condition", "as_of", "value", "last_fired", "updated_at"],
    )
    return counts.written


# --------------------------------------------------------------------------- events
def insert_events(session: Session, rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Insert events (a ``dedupe_key`` already stored is left alone); returns
    dedupe_key -> event id for every row given."""
    if not rows:
        return {}
    upsert(session, AlertEvent.__table__, rows, ["dedupe_key"], [])
    keys = [r["dedupe_key"] for r in rows]
    found = session.execute(
        select(AlertEvent.dedupe_key, AlertEvent.id).where(AlertEvent.dedupe_key.in_(keys))
    ).all()
    return {k: i for k, i in found}


def events_by_id(session: Session, ids: Collection[int]) -> dict[int, AlertEvent]:
    if not ids:
        return {}
    return {e.id: e for e in session.scalars(select(AlertEvent).where(AlertEvent.id.in_(list(ids))))}


def recent_events(session: Session, limit: int = 20) -> list[tuple[AlertEvent, list[AlertDelivery]]]:
    """The newest events with their deliveries (newest first)."""
    events = list(session.scalars(
        select(AlertEvent).order_by(AlertEvent.created_at.desc(), AlertEvent.id.desc()).limit(limit)
    ))
    by_event: dict[int, list[AlertDelivery]] = {e.id: [] for e in events}
    if events:
        for d in session.scalars(
            select(AlertDelivery).where(AlertDelivery.event_id.in_(list(by_event)))
            .order_by(AlertDelivery.id)
        ):
            by_event[d.event_id].append(d)
    return [(e, by_event[e.id]) for e in events]


# --------------------------------------------------------------------------- outbox
def insert_deliveries(session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """Queue deliveries; one already queued for (event, subscriber, channel,
    target) is left alone. Returns how many were new."""
    if not rows:
        return 0
    counts = upsert(
        session, AlertDelivery.__table__, rows,
        ["event_id", "subscriber", "channel", "target"], [],
    )
    return counts.inserted


def _due(now: datetime, stale_before: datetime):  # type: ignore[no-untyped-def]
    return or_(
        and_(AlertDelivery.status == PENDING, AlertDelivery.next_attempt_at <= now),
        and_(AlertDelivery.status == SENDING, AlertDelivery.claimed_at <= stale_before),
    )


def due_deliveries(session: Session, now: datetime, stale_before: datetime) -> list[AlertDelivery]:
    """Pending rows whose time has come, and rows stuck in ``sending`` since
    before ``stale_before`` (their sender died between claim and mark)."""
    q = select(AlertDelivery).where(_due(now, stale_before)).order_by(AlertDelivery.id)
    return list(session.scalars(q))


def claim(session: Session, ids: Collection[int], *, batch_key: str, now: datetime,
          stale_before: datetime) -> int:
    """Mark ``ids`` as being sent (attempts + 1, ``claimed_at``, ``batch_key``),
    only where still due. Returns how many rows were claimed."""
    res = session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id.in_(list(ids)), _due(now, stale_before))
        .values(status=SENDING, attempts=AlertDelivery.attempts + 1, claimed_at=now,
                batch_key=batch_key)
        .execution_options(synchronize_session=False)
    )
    return int(res.rowcount or 0)


def _finish(session: Session, ids: Collection[int], **values: Any) -> int:
    res = session.execute(
        update(AlertDelivery)
        .where(AlertDelivery.id.in_(list(ids)), AlertDelivery.status == SENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return int(res.rowcount or 0)


def mark_sent(session: Session, ids: Collection[int], now: datetime) -> int:
    return _finish(session, ids, status=SENT, sent_at=now, last_error=None)


def mark_retry(session: Session, ids: Collection[int], error: str, next_attempt_at: datetime) -> int:
    return _finish(session, ids, status=PENDING, last_error=error[:2000],
                   next_attempt_at=next_attempt_at)


def mark_failed(session: Session, ids: Collection[int], error: str) -> int:
    return _finish(session, ids, status=FAILED, last_error=error[:2000])


def requeue_failed(session: Session, now: datetime) -> int:
    """Put every failed delivery back in the queue (attempt count reset)."""
    res = session.execute(
        update(AlertDelivery).where(AlertDelivery.status == FAILED)
        .values(status=PENDING, attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(res.rowcount or 0)


def delivery_counts(session: Session) -> dict[str, int]:
    """status -> number of deliveries."""
    q = select(AlertDelivery.status, func.count()).group_by(AlertDelivery.status)
    return {s: int(n) for s, n in session.execute(q)}


def deliveries(session: Session, status: str | None = None) -> list[AlertDelivery]:
    q = select(AlertDelivery).order_by(AlertDelivery.id)
    if status is not None:
        q = q.where(AlertDelivery.status == status)
    return list(session.scalars(q))
