"""Alerts people want to read, end to end on the real computed database: a new
subscriber's first evaluation is one onboarding digest of the current state
(not one message per old condition), later changes are single alerts, a long
gap gives one catch-up message, links go to ``BUBBLEWATCH_PUBLIC_URL`` only,
and no message shows a machine key. The received messages are copied to
``/tmp/bubblewatch-alerts/`` (``BUBBLEWATCH_ALERTS_DIR``) for reading."""

from __future__ import annotations

import html
import json
import os
import re
import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import update

from alerts.config import CATCH_UP_AFTER_DAYS, default_rules_text
from alerts.render import (
    SLACK_MAX_BLOCKS,
    EventView,
    check_slack_blocks,
    render_message,
)
from alerts.service import deliver_job as deliver
from alerts.service import evaluate_job
from bubblewatch.core.settings import AlertSettings, Settings, SmtpSettings
from db import alerts_repo, repo
from db.alerts_models import AlertState
from db.session import session_scope
from indicators.registry import params_hash
from indicators.vocabulary import label, raw_keys
from tests.alerts.conftest import SlackReceiver, SmtpServer
from tests.conftest import COMPUTED_SYMBOLS

PUBLIC = "https://bubblewatch.example.org"
SLACK_VAR = "BW_DESK_SLACK"
OUT = Path(os.environ.get("BUBBLEWATCH_ALERTS_DIR", "/tmp/bubblewatch-alerts"))
SUBSCRIBER = f"""
[[subscribers]]
name = "desk"
email = "desk@example.org"
slack_webhook_env = "{SLACK_VAR}"
"""
NEW_RULE = """
[[rules]]
id = "ai-score-elevated"
indicator = "composite"
key = "ai"
type = "above"
field = "score"
threshold = 20.0
severity = "warning"
description = "The AI-cycle bubble-risk score is in the moderate band or higher."
"""


def readable(text: str) -> list[str]:
    """Machine keys left in a message (HTML tags and entities removed first)."""
    return raw_keys(html.unescape(re.sub(r"<[^>]+>", " ", text)))


def slack_texts(payload: dict[str, Any]) -> str:
    parts = [payload["text"]]
    for b in payload["blocks"]:
        parts.append((b.get("text") or {}).get("text", ""))
        parts += [f["text"] for f in b.get("fields") or []]
        parts += [e.get("text", "") for e in b.get("elements") or []]
    # Slack links <url|label>: keep the label; emoji codes (:warning:) show as icons
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\1 \2", "\n".join(parts))
    return re.sub(r":[a-z_]+:", " ", text)


def parts(mail: Any) -> tuple[str, str]:
    return (mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content())


def keep(name: str, mail: Any, payload: dict[str, Any]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    text, page = parts(mail)
    (OUT / f"{name}-email.txt").write_text(f"Subject: {str(mail['Subject']).strip()}\n\n{text}")
    (OUT / f"{name}-email.html").write_text(page)
    (OUT / f"{name}-slack.json").write_text(json.dumps(payload, indent=1, ensure_ascii=False))


@pytest.fixture
def desk(computed_db_url: str, tmp_path: Path, smtp_server: SmtpServer,
         slack_server: SlackReceiver, monkeypatch: pytest.MonkeyPatch) -> tuple[Settings, Path]:
    """Settings on a copy of the computed database: the default rules and one
    subscriber with e-mail and Slack, the dashboard at a public address."""
    dst = tmp_path / "computed.sqlite"
    with sqlite3.connect(computed_db_url.removeprefix("sqlite:///")) as a, \
            sqlite3.connect(dst) as b:
        a.backup(b)
    rules = tmp_path / "alerts.toml"
    rules.write_text(default_rules_text() + SUBSCRIBER)
    monkeypatch.setenv(SLACK_VAR, slack_server.url)
    settings = Settings(database_url=f"sqlite:///{dst}",
                        smtp=SmtpSettings(host=smtp_server.host, port=smtp_server.port),
                        alerts=AlertSettings(rules_file=rules), public_url=PUBLIC,
                        universe={"symbols": list(COMPUTED_SYMBOLS)})
    return settings, rules


def test_first_evaluation_is_one_onboarding_digest_then_single_alerts(
        desk: tuple[Settings, Path], smtp_server: SmtpServer, slack_server: SlackReceiver,
) -> None:
    settings, rules = desk
    url = settings.resolved_database_url
    report = evaluate_job(settings)
    fired = report.alerts
    assert len(fired) >= 5, "the real data no longer makes the default rules fire"
    assert report.queued == 2 * len(fired)  # one row per alert and channel...
    sent = deliver(settings)
    assert sent.count("sent") == 2  # ...sent as one message per channel
    (mail,) = smtp_server.inbox.receipts
    ((_, _, _, payload),) = slack_server.requests
    text, page = parts(mail)
    subject = str(mail["Subject"]).strip()
    assert subject.startswith(f"[bubblewatch] Where things stand: {len(fired)} conditions hold")
    for a in fired:  # every condition, with its figure
        assert a.title in text and html.escape(a.title) in page
        assert a.value_text in text
    # since when: Nvidia's explosive episode began long before this first evaluation
    with session_scope(url) as s:
        eps = repo.indicator_events(s, "psy", "NVDA")
    start = pd.Timestamp(eps.loc[eps["end"].isna(), "start"].iloc[-1]).date()
    assert start < date(2026, 1, 1)
    assert f"NVIDIA (NVDA): explosive rise under way since {start}" in text
    # links go to the public address, never to this host
    assert f"{PUBLIC}/explosiveness?symbol=NVDA" in text and "127.0.0.1" not in text + page
    assert readable(text) == [] and readable(page) == []
    assert readable(slack_texts(payload)) == []
    check_slack_blocks(payload["blocks"])
    keep("onboarding", mail, payload)

    # nothing changed: nothing more; a rule added later fires as one single alert
    assert evaluate_job(settings).alerts == []
    rules.write_text(rules.read_text() + NEW_RULE)
    (alert,) = evaluate_job(settings).alerts
    assert deliver(settings).count("sent") == 2
    mail = smtp_server.inbox.receipts[-1]
    payload = slack_server.requests[-1][3]
    text, page = parts(mail)
    assert str(mail["Subject"]).strip() == f"[bubblewatch] WARNING: {alert.title}"
    assert alert.title.startswith(f"AI cycle: {label('composite', 'score')} ")
    for needle in (f"What happened: {label('composite', 'score')} of AI cycle was",
                   "at or above 20 / 100; it has been so since",
                   "What it means: The AI-cycle bubble-risk score",
                   f"Chart: {PUBLIC}/?symbol=ai",
                   f"Rule:      {label('composite', 'score')} at or above 20"):
        assert needle in text
    assert readable(text) == [] and readable(page) == [] and readable(slack_texts(payload)) == []
    check_slack_blocks(payload["blocks"])
    keep("single-alert", mail, payload)


def test_without_a_public_address_there_are_no_links(
        desk: tuple[Settings, Path], smtp_server: SmtpServer, slack_server: SlackReceiver,
) -> None:
    settings, _ = desk
    settings = settings.model_copy(update={"public_url": None})
    evaluate_job(settings)
    deliver(settings)
    text, page = parts(smtp_server.inbox.receipts[0])
    blocks = json.dumps(slack_server.requests[0][3])
    for part in (text, page, blocks):
        assert "http://" not in part and "https://" not in part
    assert "Chart:" not in text and "Open the chart" not in page + blocks


def _store_runup(url: str, key: str, values: list[float], start: date) -> None:
    frame = pd.DataFrame({"ret_2y": values},
                         index=pd.date_range(start, periods=len(values), freq="B"))
    params = {"source": "test"}
    with session_scope(url) as s:
        repo.store_indicator_result(s, indicator="runup", key=key, params=params,
                                    params_hash=params_hash(params), frame=frame, events=None,
                                    meta={}, as_of=frame.index[-1].date())


def test_a_long_gap_gives_one_catch_up_message(
        alerts_db: str, tmp_path: Path, smtp_server: SmtpServer) -> None:
    rules = tmp_path / "alerts.toml"
    rules.write_text('[[rules]]\nid = "doubling"\nindicator = "runup"\nkey = "*"\n'
                     'type = "above"\nfield = "ret_2y"\nthreshold = 1.0\n'
                     '[[subscribers]]\nname = "desk"\nemail = "desk@example.org"\n')
    settings = Settings(database_url=alerts_db, alerts=AlertSettings(rules_file=rules),
                        smtp=SmtpSettings(host=smtp_server.host, port=smtp_server.port))
    for key in ("NVDA", "CSCO", "AMD"):
        _store_runup(alerts_db, key, [0.5, 0.6], date(2025, 1, 6))
    _store_runup(alerts_db, "NVDA", [0.5, 0.6, 1.2], date(2025, 1, 6))
    evaluate_job(settings)
    deliver(settings)
    assert "Where things stand: 1 condition holds" in str(smtp_server.inbox.receipts[0]["Subject"])
    # an ordinary day: one more crossing is one alert
    _store_runup(alerts_db, "CSCO", [0.5, 0.6, 0.7, 1.1], date(2025, 1, 6))
    evaluate_job(settings)
    deliver(settings)
    assert str(smtp_server.inbox.receipts[1]["Subject"]).strip().startswith(
        "[bubblewatch] WARNING: Cisco Systems (CSCO): Two-year return +110%")
    _store_runup(alerts_db, "NVDA", [0.5, 0.6, 1.2, 0.6], date(2025, 1, 6))
    assert evaluate_job(settings).alerts == []  # NVDA falls back: the rule re-arms quietly
    # then no evaluation for longer than the gap: the next one is one catch-up message
    with session_scope(alerts_db) as s:
        s.execute(update(AlertState).values(
            updated_at=datetime.now(UTC) - timedelta(days=CATCH_UP_AFTER_DAYS + 1)))
    _store_runup(alerts_db, "AMD", [0.5, 0.6, 0.7, 0.8, 1.3], date(2025, 1, 6))
    _store_runup(alerts_db, "NVDA", [0.5, 0.6, 1.2, 0.6, 1.4], date(2025, 1, 6))
    assert len(evaluate_job(settings).alerts) == 2  # AMD now; NVDA crossed again
    deliver(settings)
    assert len(smtp_server.inbox.receipts) == 3
    last = smtp_server.inbox.receipts[2]
    assert "Catching up: 2 conditions hold now" in str(last["Subject"])
    body = last.get_body(("plain",)).get_content()
    assert "Advanced Micro Devices (AMD): Two-year return +130%" in body
    assert "NVIDIA (NVDA): Two-year return +140%" in body
    with session_scope(alerts_db) as s:
        modes = {d.mode for d in alerts_repo.deliveries(s)}
    assert modes == {"onboarding", "immediate", "catchup"}


def test_slack_messages_stay_within_slack_limits() -> None:
    long = "x " * 2000  # a rules-file description far longer than one Slack text
    views = [EventView(rule_id=f"r{i}", key=f"K{i}", indicator="runup", field="ret_2y",
                       severity=("critical", "warning", "info")[i % 3], as_of=date(2025, 1, 3),
                       value_text="+120%", threshold_text="+100%",
                       title=f"K{i}: Two-year return +120%, at or above +100% " + "y" * 600,
                       explanation=f"What happened {i}.\n\n{long}",
                       link=f"{PUBLIC}/analog?symbol=K{i}")
             for i in range(400)]
    for n in (1, 5, 12, 13, 60, 400):
        msg = render_message(views[:n], key="k" * 32, channel="slack", target="V",
                             subscriber="desk", kind="onboarding" if n > 1 else "alert")
        check_slack_blocks(msg.blocks)
        assert len(msg.blocks) <= SLACK_MAX_BLOCKS
        shown = sum(json.dumps(b).count("two-year") + json.dumps(b).count("Two-year")
                    for b in msg.blocks[1:])
        said = json.dumps(list(msg.blocks), ensure_ascii=False)
        if n <= 60:
            assert "more; see the Alerts page" not in said and shown >= n
        else:
            more = int(re.search(r"…and (\d+) more", said).group(1))  # type: ignore[union-attr]
            assert shown + more == n
