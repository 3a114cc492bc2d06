"""Alert jobs wired to settings and the database; the scheduler and the CLI
call these.

:func:`evaluate_job` runs after each compute: it reads the stored indicator
results the rules name, evaluates every (rule, key) against its stored state,
and in one transaction saves the new states, the fired events and their
outbox rows. :func:`deliver_job` runs every minute and sends what is due.

A subscriber channel that was never sent anything gets one onboarding digest
of the current state instead of one message per condition; after a gap of more
than :data:`~alerts.config.CATCH_UP_AFTER_DAYS` days between two evaluations,
every channel gets the alerts of the evaluation as one catch-up message.
Links in messages point to ``BUBBLEWATCH_PUBLIC_URL`` (none when it is unset).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.channels.base import Notifier, OutgoingMessage
from alerts.channels.email import EmailNotifier
from alerts.channels.slack import SlackNotifier
from alerts.config import (
    ALL_KEYS,
    CATCH_UP_AFTER_DAYS,
    Problem,
    Rule,
    RuleBook,
    Subscriber,
    load_rulebook,
)
from alerts.outbox import (
    DEFAULT_POLICY,
    ChannelKey,
    DeliveryReport,
    QueuedEvent,
    RetryPolicy,
    deliver_pending,
    plan_deliveries,
    utc,
)
from alerts.render import EventView, dashboard_link, render_message
from alerts.rules import Alert, Evaluation, RuleInput, RuleState, evaluate
from bubblewatch.core.errors import ConfigError
from bubblewatch.core.settings import Settings
from bubblewatch.core.universe import Universe
from db import alerts_repo, repo
from db.alerts_models import AlertDelivery, AlertEvent, AlertState
from db.runlog import record_run
from db.session import session_scope

log = logging.getLogger(__name__)

EVALUATE_JOB = "alerts_evaluate"
DELIVER_JOB = "alerts_deliver"


@dataclass(frozen=True, slots=True)
class EvaluationReport:
    """What one evaluation did."""

    rulebook: RuleBook
    evaluation: Evaluation
    skipped: tuple[tuple[str, str], ...] = ()  # (rule id, reason) with nothing to evaluate
    new_events: int = 0
    queued: int = 0
    dry_run: bool = False

    @property
    def alerts(self) -> list[Alert]:
        return self.evaluation.alerts

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.rulebook.problems


def rules_file(settings: Settings) -> Path | None:
    """The rules file in use (``None``: the shipped default rules)."""
    return settings.alerts.rules_file


def load_rules(settings: Settings, *, strict: bool = False) -> RuleBook:
    """The rule book named by the settings, validated against the registry."""
    return load_rulebook(rules_file(settings), universe=settings.universe, strict=strict)


def _require_schema(url: str) -> None:
    from db.migrate import require_current

    require_current(url)


# --------------------------------------------------------------------------- evaluate
@dataclass(frozen=True, slots=True)
class Inputs:
    """What :func:`gather_inputs` read: the (rule, key, input, state) items, the
    rules with no key to evaluate, and the (rule, key) whose reads failed."""

    items: list[tuple[Rule, str, RuleInput, RuleState | None]]
    skipped: list[tuple[str, str]]
    errors: list[tuple[str, str, str]]


def gather_inputs(session: Session, rules: tuple[Rule, ...],
                  universe: Universe | None = None) -> Inputs:
    """Read the stored indicator data and state of every (rule, key).

    A read that fails for one rule or key is recorded in :attr:`Inputs.errors`
    and does not stop the others. ``universe`` names the keys for people."""
    states = {(s.rule_id, s.key): RuleState(s.condition, s.as_of, s.value, s.last_fired,
                                            s.rule_hash)
              for s in alerts_repo.alert_states(session, [r.id for r in rules])}
    runs: dict[str, dict[str, date | None]] = {}
    frames: dict[tuple[str, str], pd.DataFrame] = {}
    items: list[tuple[Rule, str, RuleInput, RuleState | None]] = []
    skipped: list[tuple[str, str]] = []
    errors: list[tuple[str, str, str]] = []
    for rule in rules:
        try:
            if rule.indicator not in runs:
                runs[rule.indicator] = {r.key: r.last_date
                                        for r in repo.latest_runs(session, rule.indicator)}
        except Exception as exc:  # noqa: BLE001 - one unreadable indicator, not all rules
            errors.append((rule.id, "*", f"{type(exc).__name__}: {exc}"))
            continue
        keys = sorted(runs[rule.indicator]) if rule.keys == (ALL_KEYS,) else list(rule.keys)
        if not keys:
            skipped.append((rule.id, f"indicator {rule.indicator!r} has not been computed yet"))
        for key in keys:
            try:
                fk = (rule.indicator, key)
                if fk not in frames:
                    frames[fk] = _wide(repo.indicator_frame(session, rule.indicator, key))
                wide = frames[fk]
                events = None
                if rule.type in ("episode_start", "episode_end"):
                    events = repo.indicator_events(session, rule.indicator, key)
            except Exception as exc:  # noqa: BLE001
                errors.append((rule.id, key, f"{type(exc).__name__}: {exc}"))
                continue
            data = RuleInput(
                values=wide.get(rule.field) if rule.field else None,
                thresholds=wide.get(rule.threshold_field) if rule.threshold_field else None,
                events=events, as_of=runs[rule.indicator].get(key),
                same_inputs_change=(wide.get(rule.same_inputs_change_field)
                                    if rule.same_inputs_change_field else None),
                key_label=universe.label(key, long=True) if universe is not None else None,
            )
            items.append((rule, key, data, states.get((rule.id, key))))
    return Inputs(items, skipped, errors)


def _wide(long: pd.DataFrame) -> pd.DataFrame:
    if long.empty:
        return pd.DataFrame()
    wide = long.pivot_table(index="date", columns="field", values="value", aggfunc="last")
    wide.index = pd.to_datetime(wide.index)
    return wide.sort_index()


def evaluate_job(
    settings: Settings,
    *,
    dry_run: bool = False,
    rulebook: RuleBook | None = None,
    now: datetime | None = None,
) -> EvaluationReport:
    """Evaluate every valid rule on the stored indicator results.

    Broken rules (see :attr:`RuleBook.problems`) and rules that raise are
    reported and skipped; the others are evaluated. Without ``dry_run`` the new
    states, events and outbox rows are committed in one transaction and the
    run is recorded in the run log (``alerts_evaluate``).
    """
    url = settings.resolved_database_url
    _require_schema(url)
    now = utc(now)
    if dry_run:
        book = rulebook if rulebook is not None else load_rules(settings)
        with session_scope(url) as s:
            inputs = gather_inputs(s, book.rules, settings.universe)
        return EvaluationReport(book, _evaluate(inputs), tuple(inputs.skipped), dry_run=True)
    with record_run(url, EVALUATE_JOB) as rec:  # an unreadable rules file is a failed run
        book = rulebook if rulebook is not None else load_rules(settings)
        for p in book.problems:
            log.warning("alert rule skipped: %s", p)
        with session_scope(url) as s:
            inputs = gather_inputs(s, book.rules, settings.universe)
            ev = _evaluate(inputs)
            new_events, queued = _store(s, settings, book, ev, now)
        for p in book.problems:
            rec.fail(f"{p.file}:{p.line}", str(p))
        for rule_id, key, msg in ev.errors:
            rec.fail(f"{rule_id}/{key}", msg)
        for o in ev.outcomes:
            rec.ok(f"{o.rule_id}/{o.key}", rows=int(o.alert is not None), note=o.note)
    return EvaluationReport(book, ev, tuple(inputs.skipped), new_events, queued)


def _evaluate(inputs: Inputs) -> Evaluation:
    ev = evaluate(inputs.items)
    return Evaluation(ev.outcomes, (*inputs.errors, *ev.errors))


def _store(session: Session, settings: Settings, book: RuleBook, ev: Evaluation,
           now: datetime) -> tuple[int, int]:
    previous_evaluation = alerts_repo.aware(session.scalar(select(func.max(AlertState.updated_at))))
    alerts_repo.save_states(session, [
        {"rule_id": o.rule_id, "key": o.key, "rule_hash": o.state.rule_hash or "",
         "condition": o.state.condition, "as_of": o.state.as_of, "value": o.state.value,
         "last_fired": o.state.last_fired}
        for o in ev.outcomes
    ])
    alerts = ev.alerts
    summary = summary_channels(session, book.subscribers, previous_evaluation, now)
    if not alerts and not summary:
        return 0, 0
    rows = [{
        "dedupe_key": a.dedupe_key, "rule_id": a.rule_id, "key": a.key,
        "indicator": a.indicator, "field": a.field, "rule_type": a.rule_type,
        "severity": a.severity, "as_of": a.as_of, "value": a.value, "threshold": a.threshold,
        "value_text": a.value_text, "threshold_text": a.threshold_text,
        "condition": a.condition, "previous": a.previous, "title": a.title[:255],
        "explanation": a.explanation,
        "link": dashboard_link(settings.public_url, a.indicator, a.key),
        "created_at": now,
    } for a in alerts]
    ids = alerts_repo.insert_events(session, rows)
    queued = [QueuedEvent(ids[a.dedupe_key], a.dedupe_key, a.rule_id, a.severity) for a in alerts]
    current = current_events(session) if summary else []
    plan = plan_deliveries(queued, book.subscribers, now, settings.scheduler.timezone,
                           summary=summary, current=current)
    return len(ids), alerts_repo.insert_deliveries(session, plan)


def summary_channels(session: Session, subscribers: tuple[Subscriber, ...],
                     previous_evaluation: datetime | None, now: datetime
                     ) -> dict[ChannelKey, str]:
    """Subscriber channels whose next message summarises the current state:
    ``onboarding`` for a channel never sent anything, ``catchup`` for all the
    others when the previous evaluation was more than
    :data:`~alerts.config.CATCH_UP_AFTER_DAYS` days before ``now``."""
    query = select(AlertDelivery.subscriber, AlertDelivery.channel, AlertDelivery.target)
    known = {tuple(r) for r in session.execute(query.distinct())}
    gap = (previous_evaluation is not None
           and now - previous_evaluation > timedelta(days=CATCH_UP_AFTER_DAYS))
    out: dict[ChannelKey, str] = {}
    for sub in subscribers:
        for ch in sub.channels:
            k = (sub.name, ch.kind, ch.target)
            if k not in known:
                out[k] = "onboarding"
            elif gap:
                out[k] = "catchup"
    return out


def current_events(session: Session) -> list[QueuedEvent]:
    """Every alert whose condition holds now: the newest event of each (rule,
    key) whose stored state is still the condition it announced."""
    newest = (select(AlertEvent.rule_id, AlertEvent.key, func.max(AlertEvent.id).label("id"))
              .group_by(AlertEvent.rule_id, AlertEvent.key).subquery())
    q = (select(AlertEvent)
         .join(newest, AlertEvent.id == newest.c.id)
         .join(AlertState, (AlertState.rule_id == AlertEvent.rule_id)
               & (AlertState.key == AlertEvent.key)
               & (AlertState.condition == AlertEvent.condition))
         .order_by(AlertEvent.id))
    return [QueuedEvent(e.id, e.dedupe_key, e.rule_id, e.severity) for e in session.scalars(q)]


# --------------------------------------------------------------------------- deliver
def default_notifiers(settings: Settings) -> dict[str, Notifier]:
    """The real channels, configured from the settings."""
    return {"email": EmailNotifier(settings.smtp),
            "slack": SlackNotifier(settings.slack.timeout_s)}


def deliver_job(
    settings: Settings,
    *,
    now: datetime | None = None,
    notifiers: Mapping[str, Notifier] | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> DeliveryReport:
    """Send every due outbox row once; a run that sent anything is recorded in
    the run log (``alerts_deliver``), an idle one is not."""
    url = settings.resolved_database_url
    _require_schema(url)
    chans = notifiers if notifiers is not None else default_notifiers(settings)
    report = deliver_pending(url, chans, now=now, policy=policy,
                             rule_labels=rule_labels(settings), public_url=settings.public_url)
    if report.results:
        with record_run(url, DELIVER_JOB) as rec:
            for r in report.results:
                item = f"{r.batch.channel}:{r.batch.target}:{r.batch.key[:12]}"
                if r.status in ("sent", "skipped"):
                    rec.ok(item, rows=len(r.batch.ids) if r.status == "sent" else 0,
                           status=r.status)
                else:
                    rec.fail(item, f"{r.status}: {r.error}")
    return report


def rule_labels(settings: Settings) -> dict[str, str]:
    """Rule id -> label of the rules file in force (``{}`` when it cannot be
    read: messages then name their rule by the alert's title)."""
    try:
        book = load_rules(settings)
    except Exception as exc:  # noqa: BLE001 - a broken rules file must not stop deliveries
        log.warning("alert messages go out without rule labels: %s", exc)
        return {}
    return {r.id: r.label for r in book.rules}


def requeue_failed(settings: Settings, now: datetime | None = None) -> int:
    """Put failed deliveries back in the queue; returns how many."""
    url = settings.resolved_database_url
    _require_schema(url)
    with session_scope(url) as s:
        return alerts_repo.requeue_failed(s, utc(now))


def send_test(settings: Settings, channel: str, to: str,
              notifiers: Mapping[str, Notifier] | None = None) -> OutgoingMessage:
    """Send a test message straight through ``channel`` (not via the outbox).

    ``to`` is an e-mail address, or for Slack the name of the environment
    variable holding the webhook URL. Raises
    :class:`~bubblewatch.core.errors.DeliveryError` if it cannot be delivered.
    """
    if channel not in ("email", "slack"):
        raise ConfigError(f"unknown channel {channel!r}; use email or slack")
    if channel == "slack" and to.startswith(("http://", "https://")):
        raise ConfigError("give --to the NAME of the environment variable holding the Slack "
                          "webhook URL, not the URL (it would end up in your shell history)")
    today = datetime.now(UTC).date()
    view = EventView(
        rule_id="test", key="NVDA", indicator="test", field=None, severity="info", as_of=today,
        value_text="42", threshold_text="40", title="Test alert from bubblewatch",
        explanation="This is a test message: if you can read it, this channel works.",
        link=settings.public_url or "", rule_label="Channel test",
    )
    msg = render_message([view], key=f"test-{uuid.uuid4().hex[:16]}", channel=channel,
                         target=to, subscriber="test", public_url=settings.public_url)
    chans = notifiers if notifiers is not None else default_notifiers(settings)
    chans[channel].send(msg)
    return msg


def history(settings: Settings, limit: int = 20):  # type: ignore[no-untyped-def]
    """The newest events with their deliveries (see :func:`db.alerts_repo.recent_events`)."""
    url = settings.resolved_database_url
    _require_schema(url)
    with session_scope(url) as s:
        return alerts_repo.recent_events(s, limit)
