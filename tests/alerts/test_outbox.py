"""The outbox against real receivers (aiosmtpd, a local HTTP webhook), with
failure injection. Time is injected: no test sleeps."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from alerts.channels.base import OutgoingMessage
from alerts.config import Channel, Subscriber
from alerts.outbox import QueuedEvent, RetryPolicy, plan_deliveries
from alerts.rules import Alert
from alerts.service import default_notifiers, deliver_job, requeue_failed
from bubblewatch.core.settings import DashboardSettings, SchedulerSettings, Settings, SmtpSettings
from db import alerts_repo
from db.session import session_scope
from tests.alerts.conftest import SlackReceiver, SmtpServer, free_port

T0 = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
SLACK_VAR = "BW_TEST_SLACK_WEBHOOK"


def make_settings(url: str, smtp_port: int) -> Settings:
    return Settings(
        database_url=url,
        smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, sender="bw@test.local", timeout_s=5),
        dashboard=DashboardSettings(base_url="http://dash.local:8501"),
        scheduler=SchedulerSettings(timezone="UTC"),
    )


def queue_alerts(url: str, subscriber: Subscriber, n: int = 1, now: datetime = T0) -> None:
    """Store ``n`` events and queue their deliveries to ``subscriber``."""
    alerts = [
        Alert(rule_id="nvda-runup", key=f"K{i}", indicator="runup", field="ret_2y",
              rule_type="above", severity="warning", as_of=date(2025, 1, 3), value=1.25 + i,
              threshold=1.0, condition="on", previous="off", title=f"K{i}: runup.ret_2y high",
              explanation="Trailing two-year return at or above 100%.",
              value_text=f"{125 + 100 * i}%", threshold_text="100%")
        for i in range(n)
    ]
    rows = [{
        "dedupe_key": a.dedupe_key, "rule_id": a.rule_id, "key": a.key, "indicator": a.indicator,
        "field": a.field, "rule_type": a.rule_type, "severity": a.severity, "as_of": a.as_of,
        "value": a.value, "threshold": a.threshold, "value_text": a.value_text,
        "threshold_text": a.threshold_text, "condition": a.condition, "previous": a.previous,
        "title": a.title, "explanation": a.explanation,
        "link": f"http://dash.local:8501/analog?key={a.key}", "created_at": now,
    } for a in alerts]
    with session_scope(url) as s:
        ids = alerts_repo.insert_events(s, rows)
        queued = [QueuedEvent(ids[a.dedupe_key], a.dedupe_key, a.rule_id, a.severity)
                  for a in alerts]
        alerts_repo.insert_deliveries(s, plan_deliveries(queued, [subscriber], now, "UTC"))


def statuses(url: str) -> list[tuple[str, str, int]]:
    with session_scope(url) as s:
        return [(d.channel, d.status, d.attempts) for d in alerts_repo.deliveries(s)]


BOTH = Subscriber("desk", (Channel("email", "desk@example.org"), Channel("slack", SLACK_VAR)))
SLACK_ONLY = Subscriber("ops", (Channel("slack", SLACK_VAR),))
EMAIL_ONLY = Subscriber("ops", (Channel("email", "ops@example.org"),))


@pytest.fixture
def slack_env(slack_server: SlackReceiver, monkeypatch: pytest.MonkeyPatch) -> SlackReceiver:
    monkeypatch.setenv(SLACK_VAR, slack_server.url)
    return slack_server


def test_delivers_once_to_both_channels_with_figure_threshold_and_link(
        alerts_db: str, smtp_server: SmtpServer, slack_env: SlackReceiver) -> None:
    queue_alerts(alerts_db, BOTH)
    settings = make_settings(alerts_db, smtp_server.port)
    report = deliver_job(settings, now=T0)
    assert report.count("sent") == 2
    assert sorted(statuses(alerts_db)) == [("email", "sent", 1), ("slack", "sent", 1)]

    (mail,) = smtp_server.inbox.receipts
    with session_scope(alerts_db) as s:
        keys = {d.channel: d.batch_key for d in alerts_repo.deliveries(s)}
    assert mail["Message-ID"] == f"<{keys['email']}@bubblewatch>"
    assert mail["Subject"] == "[bubblewatch] WARNING: K0: runup.ret_2y high"
    text, html = (p.get_content() for p in mail.iter_parts())
    for part in (text, html):
        assert "125%" in part and "100%" in part and "2025-01-03" in part
        assert "http://dash.local:8501/analog?key=K0" in part
        assert "Trailing two-year return" in part

    ((path, key, status, payload),) = slack_env.requests
    assert (path, key, status) == ("/services/T000/B000/secretpart", keys["slack"], 200)
    blocks = payload["blocks"]
    assert blocks[0]["type"] == "header" and "K0: runup.ret_2y high" in blocks[0]["text"]["text"]
    assert keys["slack"] in blocks[-1]["elements"][0]["text"]
    assert "<http://dash.local:8501/analog?key=K0|Open the chart>" in str(blocks)

    # nothing is due any more
    assert deliver_job(settings, now=T0 + timedelta(hours=1)).results == ()
    assert len(smtp_server.inbox.receipts) == 1 and len(slack_env.requests) == 1


def test_slack_500_is_retried_with_backoff(alerts_db: str, slack_env: SlackReceiver) -> None:
    queue_alerts(alerts_db, SLACK_ONLY)
    settings = make_settings(alerts_db, free_port())
    slack_env.script.append((500, {}))
    (r,) = deliver_job(settings, now=T0).results
    assert r.status == "retry" and "500" in (r.error or "")
    assert r.next_attempt_at == T0 + timedelta(seconds=30)
    assert deliver_job(settings, now=T0 + timedelta(seconds=29)).results == ()
    (r,) = deliver_job(settings, now=T0 + timedelta(seconds=30)).results
    assert r.status == "sent"
    assert statuses(alerts_db) == [("slack", "sent", 2)]
    assert [req[2] for req in slack_env.requests] == [500, 200]
    assert len({req[1] for req in slack_env.requests}) == 1  # the retry carries the same key
    assert len(slack_env.delivered) == 1


def test_slack_429_honours_retry_after(alerts_db: str, slack_env: SlackReceiver) -> None:
    queue_alerts(alerts_db, SLACK_ONLY)
    settings = make_settings(alerts_db, free_port())
    slack_env.script.append((429, {"Retry-After": "120"}))
    (r,) = deliver_job(settings, now=T0).results
    assert r.status == "retry" and r.next_attempt_at == T0 + timedelta(seconds=120)
    assert deliver_job(settings, now=T0 + timedelta(seconds=60)).results == ()
    (r,) = deliver_job(settings, now=T0 + timedelta(seconds=120)).results
    assert r.status == "sent" and len(slack_env.delivered) == 1


@pytest.mark.parametrize("header", ["inf", "1e400", "-30", "garbage"])
def test_slack_retry_after_out_of_range_is_clamped_and_the_run_goes_on(
        alerts_db: str, slack_env: SlackReceiver, header: str) -> None:
    """One answer with an absurd Retry-After neither crashes the run nor stops
    the deliveries after it."""
    queue_alerts(alerts_db, SLACK_ONLY, n=3)
    settings = make_settings(alerts_db, free_port())
    slack_env.script.append((429, {"Retry-After": header}))
    results = deliver_job(settings, now=T0).results
    assert [r.status for r in results] == ["retry", "sent", "sent"]
    wait = {"inf": 3600, "1e400": 3600, "-30": 1, "garbage": 30}[header]  # garbage: backoff
    assert results[0].next_attempt_at == T0 + timedelta(seconds=wait)


def test_slack_error_echoing_the_webhook_is_stored_and_printed_redacted(
        alerts_db: str, slack_env: SlackReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from bubblewatch.app.cli import app
    from bubblewatch.core.settings import get_settings

    queue_alerts(alerts_db, SLACK_ONLY, n=2)
    slack_env.script.append((500, {}, "server error handling {path}"))
    slack_env.script.append((404, {}, "no_service: {path}"))
    monkeypatch.setenv("BUBBLEWATCH_DATABASE_URL", alerts_db)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["alerts", "send"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1 and "Traceback" not in result.output  # one delivery failed
    with session_scope(alerts_db) as s:
        errors = [d.last_error or "" for d in alerts_repo.deliveries(s)]
    assert len(errors) == 2 and all(f"${SLACK_VAR}" in e for e in errors)
    for text in (*errors, result.output):
        assert "secretpart" not in text and "/services/T000" not in text
    assert "no_service" in result.output


def test_slack_4xx_is_failed_with_the_error_and_no_secret(
        alerts_db: str, slack_env: SlackReceiver) -> None:
    queue_alerts(alerts_db, SLACK_ONLY)
    settings = make_settings(alerts_db, free_port())
    slack_env.script.append((404, {}))
    (r,) = deliver_job(settings, now=T0).results
    assert r.status == "failed"
    with session_scope(alerts_db) as s:
        (row,) = alerts_repo.deliveries(s)
    assert row.status == "failed" and "404" in (row.last_error or "")
    assert SLACK_VAR in (row.last_error or "")
    assert "secretpart" not in (row.last_error or "") and "secretpart" not in row.target
    # a failed delivery is kept and can be re-queued
    assert requeue_failed(settings, now=T0) == 1
    (r,) = deliver_job(settings, now=T0 + timedelta(seconds=1)).results
    assert r.status == "sent" and len(slack_env.delivered) == 1


def test_smtp_refusing_connections_delays_and_never_loses(
        alerts_db: str, smtp_server: SmtpServer) -> None:
    queue_alerts(alerts_db, EMAIL_ONLY)
    down = make_settings(alerts_db, free_port())  # nothing listens there
    (r,) = deliver_job(down, now=T0).results
    assert r.status == "retry" and "unreachable" in (r.error or "")
    (r,) = deliver_job(down, now=T0 + timedelta(seconds=30)).results
    assert r.status == "retry" and r.next_attempt_at == T0 + timedelta(seconds=90)  # 30 s, 60 s
    up = make_settings(alerts_db, smtp_server.port)
    (r,) = deliver_job(up, now=T0 + timedelta(seconds=90)).results
    assert r.status == "sent"
    assert statuses(alerts_db) == [("email", "sent", 3)]
    assert len(smtp_server.inbox.receipts) == 1


def test_attempts_are_bounded(alerts_db: str) -> None:
    queue_alerts(alerts_db, EMAIL_ONLY)
    down = make_settings(alerts_db, free_port())
    policy = RetryPolicy(max_attempts=2, base_delay_s=10)
    assert deliver_job(down, now=T0, policy=policy).results[0].status == "retry"
    (r,) = deliver_job(down, now=T0 + timedelta(seconds=10), policy=policy).results
    assert r.status == "failed" and "attempt 2" in statuses_error(alerts_db)


def statuses_error(url: str) -> str:
    with session_scope(url) as s:
        return "".join(d.last_error or "" for d in alerts_repo.deliveries(s))


class SimulatedCrash(BaseException):
    """The process dies (not an Exception: nothing in the sender may catch it)."""


class CrashAfterSend:
    def __init__(self, inner, before: bool = False):  # type: ignore[no-untyped-def]
        self.inner, self.channel, self.before = inner, inner.channel, before

    def send(self, message: OutgoingMessage) -> None:
        if not self.before:
            self.inner.send(message)
        raise SimulatedCrash


@pytest.mark.parametrize("before", [False, True], ids=["after-send", "before-send"])
def test_crash_between_claim_and_mark_neither_loses_nor_duplicates(
        alerts_db: str, smtp_server: SmtpServer, slack_env: SlackReceiver, before: bool) -> None:
    queue_alerts(alerts_db, BOTH)
    settings = make_settings(alerts_db, smtp_server.port)
    real = default_notifiers(settings)
    crashing = {k: CrashAfterSend(v, before) for k, v in real.items()}
    for _ in range(2):  # the crash kills the run at the first send; run again, crash again
        with pytest.raises(SimulatedCrash):
            deliver_job(settings, now=T0, notifiers=crashing)
    assert sorted(statuses(alerts_db)) == [("email", "sending", 1), ("slack", "sending", 1)]
    # a restart right away leaves the claimed row alone (its sender may still be working)...
    report = deliver_job(settings, now=T0 + timedelta(seconds=60), notifiers=crashing)
    assert report.results == ()
    # ...and takes it over once the claim is stale, with the same idempotency key
    later = T0 + timedelta(seconds=301)
    report = deliver_job(settings, now=later, notifiers=real)
    assert report.count("sent") == 2
    assert sorted(statuses(alerts_db)) == [("email", "sent", 2), ("slack", "sent", 2)]
    sends = 0 if before else 1
    assert len(smtp_server.inbox.receipts) == 1 + sends
    assert len(slack_env.requests) == 1 + sends
    assert len(smtp_server.inbox.messages) == 1  # deduplicated by Message-ID
    assert len(slack_env.delivered) == 1  # deduplicated by the key header
    assert deliver_job(settings, now=later + timedelta(hours=1), notifiers=real).results == ()


def test_digest_subscribers_get_one_message_a_day(alerts_db: str, smtp_server: SmtpServer) -> None:
    digest = Subscriber("reader", (Channel("email", "reader@example.org"),), mode="digest",
                        digest_time=time(8, 0))
    queue_alerts(alerts_db, digest, n=3)
    settings = make_settings(alerts_db, smtp_server.port)
    assert deliver_job(settings, now=T0).results == ()
    assert deliver_job(settings, now=datetime(2025, 1, 7, 7, 59, tzinfo=UTC)).results == ()
    (r,) = deliver_job(settings, now=datetime(2025, 1, 7, 8, 0, tzinfo=UTC)).results
    assert r.status == "sent" and len(r.batch.ids) == 3
    (mail,) = smtp_server.inbox.receipts
    assert mail["Subject"] == "[bubblewatch] Daily digest: 3 alerts (highest: warning)"
    body = mail.get_body(("plain",)).get_content()
    assert all(f"K{i}: runup.ret_2y high" in body for i in range(3))


def test_a_claimed_row_cannot_be_claimed_twice(alerts_db: str) -> None:
    queue_alerts(alerts_db, EMAIL_ONLY)
    stale = T0 - timedelta(minutes=5)
    with session_scope(alerts_db) as s:
        (row,) = alerts_repo.deliveries(s)
        assert alerts_repo.claim(s, [row.id], batch_key="a", now=T0, stale_before=stale) == 1
    with session_scope(alerts_db) as s:
        assert alerts_repo.claim(s, [row.id], batch_key="b", now=T0, stale_before=stale) == 0
        (row,) = alerts_repo.deliveries(s)
    assert (row.status, row.batch_key, row.attempts) == ("sending", "a", 1)
