"""The persistent outbox: queue one delivery per (event, subscriber, channel,
target), then send due deliveries with retries and exponential backoff.

Delivery semantics: **at least once, with a stable idempotency key**.

1. A batch of due rows is *claimed* in its own committed transaction
   (``status = sending``, ``attempts + 1``, ``claimed_at``, ``batch_key``).
   The guarded update means two senders never claim the same row.
2. The message is sent with ``batch_key`` as its idempotency key (e-mail
   ``Message-ID``, Slack ``X-Bubblewatch-Delivery-Key`` header and context).
3. The rows are marked ``sent`` (or back to ``pending`` with a later
   ``next_attempt_at``, or ``failed`` after a permanent error or
   ``max_attempts``) in another committed transaction.

Grouping: an immediate row is one message; a subscriber's digest rows, due at
its ``digest_time``, are one message; ``onboarding`` and ``catchup`` rows (the
first message a subscriber channel ever gets, or the first after a long gap in
evaluations; see :mod:`alerts.config`) are one message of the current state,
due at once.

A crash between 2 and 3 leaves rows in ``sending``; after ``stale_after_s``
the next run sends them again *with the same key*, so the message is never
dropped, and a receiver that honours the key (mail stores by ``Message-ID``,
our test receivers) never shows it twice. A crash between 1 and 2 is
retried the same way. Nothing is lost unless a delivery exhausts its
attempts, and then it is ``failed`` with the error, visible in
``bubblewatch alerts history`` and re-queued by ``alerts send --retry-failed``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from hashlib import sha256
from typing import Any
from zoneinfo import ZoneInfo

from alerts.channels.base import Notifier
from alerts.channels.slack import redact_webhooks
from alerts.config import Subscriber
from alerts.render import EventView, render_message
from bubblewatch.core.errors import DeliveryError
from db import alerts_repo
from db.session import session_scope

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long a delivery is retried.

    Delay after attempt *n* is ``base_delay_s * 2**(n-1)`` capped at
    ``max_delay_s`` (30 s, 1 min, 2 min ... 1 h: ten attempts span ~3 h), or
    the ``Retry-After`` the channel asked for, kept within 1 s ..
    ``max_delay_s`` (an infinite or huge value waits ``max_delay_s``). A row
    claimed more than ``stale_after_s`` ago and never marked is taken to be
    orphaned by a crash.
    """

    max_attempts: int = 10
    base_delay_s: float = 30.0
    max_delay_s: float = 3600.0
    stale_after_s: float = 300.0

    def delay(self, attempts: int, retry_after: float | None = None) -> float:
        if retry_after is not None and not math.isnan(retry_after):
            return min(self.max_delay_s, max(1.0, retry_after))
        return min(self.max_delay_s, self.base_delay_s * 2.0 ** max(0, attempts - 1))


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True, slots=True)
class QueuedEvent:
    """A stored event, as needed to queue its deliveries."""

    event_id: int
    dedupe_key: str
    rule_id: str
    severity: str


#: Delivery modes: a subscriber's own (``immediate``, ``digest``) and the one-off
#: summaries of the current state (``onboarding``, ``catchup``).
SUMMARY_MODES = ("onboarding", "catchup")


@dataclass(frozen=True, slots=True)
class Batch:
    """Due rows sent as one message (one row, a subscriber's digest, or an
    onboarding / catch-up summary); ``kind`` is the message kind
    (:data:`alerts.render.KINDS`)."""

    key: str
    ids: tuple[int, ...]
    event_ids: tuple[int, ...]
    subscriber: str
    channel: str
    target: str
    digest: bool
    attempts: int
    kind: str = "alert"


@dataclass(frozen=True, slots=True)
class BatchResult:
    batch: Batch
    status: str  # sent | retry | failed | skipped
    error: str | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    results: tuple[BatchResult, ...] = ()

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)


def utc(now: datetime | None) -> datetime:
    """``now`` (default: the current time) as an aware UTC datetime; a naive
    value is taken to be UTC. Stored instants are compared as UTC."""
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


# --------------------------------------------------------------------------- planning
def delivery_key(dedupe_key: str, subscriber: str, channel: str, target: str) -> str:
    """Stable key of one (event, subscriber, channel, target)."""
    return sha256(f"{dedupe_key}|{subscriber}|{channel}|{target}".encode()).hexdigest()[:32]


def next_digest_at(now: datetime, subscriber: Subscriber, tz: str) -> datetime:
    """The next ``digest_time`` (in time zone ``tz``) after ``now``, in UTC."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    at = datetime.combine(local.date(), subscriber.digest_time, tzinfo=zone)
    if at <= local:
        at = datetime.combine(local.date() + timedelta(days=1), subscriber.digest_time,
                              tzinfo=zone)
    return at.astimezone(UTC)


ChannelKey = tuple[str, str, str]  # (subscriber, channel kind, target)


def plan_deliveries(events: Iterable[QueuedEvent], subscribers: Sequence[Subscriber],
                    now: datetime, tz: str, *, summary: Mapping[ChannelKey, str] | None = None,
                    current: Iterable[QueuedEvent] = ()) -> list[dict[str, Any]]:
    """Outbox rows for ``events``: one per matching subscriber channel.

    Immediate rows are due now; digest rows at the subscriber's next digest
    time. A channel in ``summary`` (``(subscriber, kind, target) -> mode``,
    ``onboarding`` or ``catchup``) gets instead, due now, one row per event
    of ``current`` (every alert whose condition holds now) and of ``events``
    that it wants: they are sent as one message of the current state.
    """
    summary = dict(summary or {})
    current = list(current)
    rows: list[dict[str, Any]] = []
    seen: set[tuple[int, ChannelKey]] = set()

    def add(ev: QueuedEvent, sub: Subscriber, kind: str, target: str, mode: str,
            due: datetime) -> None:
        if (ev.event_id, (sub.name, kind, target)) in seen:
            return
        seen.add((ev.event_id, (sub.name, kind, target)))
        rows.append({
            "delivery_key": delivery_key(ev.dedupe_key, sub.name, kind, target),
            "event_id": ev.event_id, "subscriber": sub.name, "channel": kind,
            "target": target, "mode": mode, "status": alerts_repo.PENDING,
            "attempts": 0, "next_attempt_at": due, "created_at": now,
        })

    events = list(events)
    for sub in subscribers:
        for ch in sub.channels:
            mode = summary.get((sub.name, ch.kind, ch.target))
            if mode is not None:
                for ev in [*current, *events]:
                    if sub.wants(ev.rule_id, ev.severity):
                        add(ev, sub, ch.kind, ch.target, mode, now)
                continue
            due = now if sub.mode == "immediate" else next_digest_at(now, sub, tz)
            for ev in events:
                if sub.wants(ev.rule_id, ev.severity):
                    add(ev, sub, ch.kind, ch.target, sub.mode, due)
    return rows


def group_batches(rows: Iterable[Any]) -> list[Batch]:
    """Group due outbox rows into messages.

    Rows already claimed once keep their ``batch_key`` (a retry is the same
    message); new immediate rows are one message each (keyed by their
    delivery key); new digest rows are one message per subscriber channel.
    """
    groups: dict[tuple[str, ...], list[Any]] = {}
    for r in rows:
        if r.batch_key:
            g = ("batch", r.batch_key)
        elif r.mode == "digest" or r.mode in SUMMARY_MODES:
            g = (r.mode, r.subscriber, r.channel, r.target)
        else:
            g = ("one", r.delivery_key)
        groups.setdefault(g, []).append(r)
    batches = []
    for g, members in groups.items():
        first = members[0]
        if g[0] == "batch":
            key = g[1]
        elif g[0] == "one":
            key = first.delivery_key
        else:
            key = sha256("|".join(sorted(m.delivery_key for m in members)).encode()).hexdigest()[:32]
        modes = {m.mode for m in members}
        kind = next((k for k in SUMMARY_MODES if k in modes), None) or (
            "digest" if "digest" in modes or len(members) > 1 else "alert")
        batches.append(Batch(
            key=key, ids=tuple(m.id for m in members),
            event_ids=tuple(dict.fromkeys(m.event_id for m in members)),
            subscriber=first.subscriber, channel=first.channel, target=first.target,
            digest=kind != "alert", attempts=max(m.attempts for m in members), kind=kind,
        ))
    return batches


# --------------------------------------------------------------------------- sending
def event_view(e: Any, rule_labels: Mapping[str, str] | None = None) -> EventView:
    """An :class:`EventView` of a stored ``alert_event`` row; ``rule_labels``
    (rule id -> label) names its rule for people."""
    as_of = e.as_of if isinstance(e.as_of, date) else date.fromisoformat(str(e.as_of))
    return EventView(e.rule_id, e.key, e.indicator, e.field, e.severity, as_of, e.value_text,
                     e.threshold_text, e.title, e.explanation, e.link,
                     (rule_labels or {}).get(e.rule_id, ""))


class _Lost(Exception):
    """Another sender claimed the batch first."""


def deliver_pending(
    url: str,
    notifiers: Mapping[str, Notifier],
    *,
    now: datetime | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    on_result: Callable[[BatchResult], None] | None = None,
    rule_labels: Mapping[str, str] | None = None,
    public_url: str | None = None,
) -> DeliveryReport:
    """Send every due delivery once (no waiting: failures are rescheduled).

    ``rule_labels`` (rule id -> label) and ``public_url`` (the dashboard's
    address for people) go into the messages."""
    now = utc(now)
    stale_before = now - timedelta(seconds=policy.stale_after_s)
    with session_scope(url) as s:
        due = alerts_repo.due_deliveries(s, now, stale_before)
    results: list[BatchResult] = []
    for batch in group_batches(due):
        result = _deliver_batch(url, batch, notifiers, now, stale_before, policy,
                                rule_labels, public_url)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return DeliveryReport(tuple(results))


def _deliver_batch(url: str, batch: Batch, notifiers: Mapping[str, Notifier], now: datetime,
                   stale_before: datetime, policy: RetryPolicy,
                   rule_labels: Mapping[str, str] | None = None,
                   public_url: str | None = None) -> BatchResult:
    with session_scope(url) as s:
        events = alerts_repo.events_by_id(s, batch.event_ids)
    message = render_message(
        [event_view(events[i], rule_labels) for i in batch.event_ids if i in events],
        key=batch.key, channel=batch.channel, target=batch.target,
        subscriber=batch.subscriber, digest=batch.digest, kind=batch.kind,
        public_url=public_url,
    )
    try:
        with session_scope(url) as s:
            claimed = alerts_repo.claim(s, batch.ids, batch_key=batch.key, now=now,
                                        stale_before=stale_before)
            if claimed != len(batch.ids):
                raise _Lost
    except _Lost:
        return BatchResult(batch, "skipped", "claimed by another sender")
    attempts = batch.attempts + 1
    notifier = notifiers.get(batch.channel)
    try:
        if notifier is None:
            raise DeliveryError(f"no notifier for channel {batch.channel!r}", retryable=False)
        notifier.send(message)
    except Exception as exc:  # noqa: BLE001 - any channel failure is recorded, never lost
        err = exc if isinstance(exc, DeliveryError) else DeliveryError(
            f"{type(exc).__name__}: {exc}", retryable=True)
        text = redact_webhooks(str(err))  # stored and printed: never a webhook path
        if not err.retryable or attempts >= policy.max_attempts:
            with session_scope(url) as s:
                alerts_repo.mark_failed(s, batch.ids, f"attempt {attempts}: {text}")
            log.warning("alert delivery %s to %s failed for good: %s", batch.key, batch.target,
                        text)
            return BatchResult(batch, "failed", text)
        at = now + timedelta(seconds=policy.delay(attempts, err.retry_after))
        with session_scope(url) as s:
            alerts_repo.mark_retry(s, batch.ids, f"attempt {attempts}: {text}", at)
        log.info("alert delivery %s to %s will be retried at %s: %s", batch.key, batch.target,
                 at.isoformat(timespec="seconds"), text)
        return BatchResult(batch, "retry", text, at)
    with session_scope(url) as s:
        alerts_repo.mark_sent(s, batch.ids, now)
    return BatchResult(batch, "sent")
