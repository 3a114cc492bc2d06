"""Channel transports on their own: SMTP security modes and refusals, Slack
secrets kept out of errors, message rendering."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from alerts.channels.email import EmailNotifier
from alerts.channels.slack import (
    MAX_RETRY_AFTER_S,
    SlackNotifier,
    check_webhook_url,
    redact_webhooks,
    retry_after_seconds,
)
from alerts.render import EventView, dashboard_link, render_message
from bubblewatch.core.errors import DeliveryError
from bubblewatch.core.settings import SmtpSettings
from tests.alerts.conftest import SmtpServer, free_port

VIEW = EventView(
    rule_id="r", key="NVDA", indicator="psy", field="bsadf", severity="critical",
    as_of=date(2025, 1, 3), value_text="2.31", threshold_text="1.48",
    title="NVDA: <b>explosive</b> & rising", explanation="BSADF > cv95 <now>.",
    link=dashboard_link("http://dash.local:8501/", "psy", "^IXIC"),
)


def message(target: str, channel: str = "email"):  # type: ignore[no-untyped-def]
    return render_message([VIEW], key="k" * 32, channel=channel, target=target, subscriber="s")


def test_rendering_escapes_and_links() -> None:
    m = message("a@example.org")
    assert VIEW.link == "http://dash.local:8501/explosiveness?symbol=%5EIXIC"
    assert dashboard_link("http://d/", "composite", "ai") == "http://d/?symbol=ai"
    assert dashboard_link("http://d", "analog", "nvda_csco") == "http://d/analog?pair=nvda_csco"
    # no public address configured: no link at all (never a 127.0.0.1 one)
    assert dashboard_link(None, "psy", "NVDA") == ""
    assert "&lt;b&gt;explosive&lt;/b&gt; &amp; rising" in m.html and "<b>explosive" not in m.html
    assert "Figure:    2.31" in m.text and "Threshold: 1.48" in m.text
    section = m.blocks[1]["text"]["text"]
    assert "&lt;b&gt;explosive&lt;/b&gt; &amp; rising" in section and section.startswith(
        ":rotating_light:")
    assert m.subject == "[bubblewatch] CRITICAL: NVDA: <b>explosive</b> & rising"


def test_recipient_refused_is_permanent(smtp_server: SmtpServer) -> None:
    notifier = EmailNotifier(SmtpSettings(host=smtp_server.host, port=smtp_server.port))
    with pytest.raises(DeliveryError, match="550") as info:
        notifier.send(message("nobody@example.org"))
    assert info.value.retryable is False
    notifier.send(message("somebody@example.org"))
    assert [m["To"] for m in smtp_server.inbox.receipts] == ["somebody@example.org"]


@pytest.mark.parametrize(("security", "retryable", "needle"), [
    ("ssl", True, "TLS failed"),  # a TLS handshake against a plain-text server
    ("starttls", False, "BUBBLEWATCH_SMTP__SECURITY"),  # server offers no STARTTLS
])
def test_security_modes_are_applied(smtp_server: SmtpServer, security: str, retryable: bool,
                                    needle: str) -> None:
    notifier = EmailNotifier(SmtpSettings(host=smtp_server.host, port=smtp_server.port,
                                          security=security, timeout_s=5))
    with pytest.raises(DeliveryError, match=needle) as info:
        notifier.send(message("a@example.org"))
    assert info.value.retryable is retryable
    assert smtp_server.inbox.receipts == []


def test_slack_errors_never_reveal_the_webhook_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/services/T0/B0/topsecret"
    notifier = SlackNotifier(2.0, environ={"HOOK": url})
    with pytest.raises(DeliveryError) as info:
        notifier.send(message("HOOK", "slack"))
    assert info.value.retryable and "$HOOK" in str(info.value)
    assert "topsecret" not in str(info.value)
    with pytest.raises(DeliveryError, match="HOOK is not set") as missing:
        SlackNotifier(2.0, environ={}).send(message("HOOK", "slack"))
    assert missing.value.retryable


NOW = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("header", "seconds"), [
    ("30", 30.0), (" 2.5 ", 2.5), ("", None), ("   ", None), (None, None),
    ("inf", MAX_RETRY_AFTER_S), ("Infinity", MAX_RETRY_AFTER_S), ("1e400", MAX_RETRY_AFTER_S),
    ("99999999999", MAX_RETRY_AFTER_S), ("-5", 0.0), ("nan", None), ("soon", None),
    ("Mon, 06 Jan 2025 12:02:00 GMT", 120.0),  # an HTTP date two minutes ahead
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # a date in the past: now
    ("Mon, 06 Jan 2125 12:00:00 GMT", MAX_RETRY_AFTER_S),
])
def test_retry_after_parsing_is_clamped(header: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(header, now=NOW) == seconds


def test_webhook_paths_are_redacted_from_error_text() -> None:
    url = "https://hooks.slack.com/services/T0AB/B0CD/xyzSecretToken42"
    echoed = ("invalid_token for /services/T0AB/B0CD/xyzSecretToken42 (token xyzSecretToken42) "
              f"at {url}")
    shown = redact_webhooks(echoed, url, "HOOK")
    assert "xyzSecretToken42" not in shown and "/services/T0AB" not in shown
    assert shown.startswith("invalid_token for $HOOK") and "$HOOK" in shown
    # without the URL: any webhook URL or path is hidden
    other = redact_webhooks("POST https://hooks.slack.com/services/T1/B2/abc failed; "
                            "path /services/T9/B8/zzz")
    assert other == "POST /services/*** failed; path /services/***"
    assert redact_webhooks("SMTP server 127.0.0.1:25 answered 550") == (
        "SMTP server 127.0.0.1:25 answered 550")


@pytest.mark.parametrize(("url", "ok"), [
    ("https://hooks.slack.com/services/T/B/x", True),
    ("http://127.0.0.1:8080/services/T/B/x", True),  # this machine: tests, local relays
    ("http://localhost/x", True),
    ("http://hooks.slack.com/services/T/B/x", False),  # the secret would travel in clear
    ("hooks.slack.com/services/T/B/x", False),
    ("https://", False), ("https://[::1/x", False), ("ftp://hooks.slack.com/x", False),
])
def test_webhook_urls_are_checked_before_sending(url: str, ok: bool) -> None:
    if ok:
        check_webhook_url(url, "HOOK")
        return
    with pytest.raises(DeliveryError, match=r"\$HOOK is not an https:// URL") as info:
        check_webhook_url(url, "HOOK")
    assert info.value.retryable is False and "/T/B/x" not in str(info.value)


def test_smtp_password_is_never_sent_in_clear(smtp_server: SmtpServer) -> None:
    s = SmtpSettings(host=smtp_server.host, port=smtp_server.port, username="alerts",
                     password="pw-123", timeout_s=5)
    with pytest.raises(DeliveryError, match="refusing to send the password") as info:
        EmailNotifier(s).send(message("a@example.org"))
    assert info.value.retryable is False and "pw-123" not in str(info.value)
    assert smtp_server.inbox.receipts == []  # nothing was even tried


def test_smtp_port_is_range_checked() -> None:
    from pydantic import ValidationError

    for port in (0, 65536, -25):
        with pytest.raises(ValidationError, match="port"):
            SmtpSettings(port=port)
    assert SmtpSettings(port=587).port == 587


RULES_OF_EVERY_TYPE = """
[[rules]]
id = "a"
indicator = "runup"
key = "*"
type = "above"
field = "ret_2y"
threshold = 1.0
hysteresis = 0.2
[[rules]]
id = "b"
indicator = "regime"
key = "*"
type = "below"
field = "drawdown"
threshold = -0.2
[[rules]]
id = "c"
indicator = "valuation"
key = "*"
type = "cross"
field = "pe_ttm"
threshold = 50.0
[[rules]]
id = "d"
indicator = "composite"
key = "*"
type = "change"
field = "score"
days = 30
threshold = 10.0
[[rules]]
id = "e"
indicator = "capex"
key = "*"
type = "change"
field = "capex_ttm"
days = 400
threshold = 0.2
relative = true
[[rules]]
id = "f"
indicator = "valuation"
key = "*"
type = "percentile"
field = "ps_ttm"
threshold = 90.0
[[rules]]
id = "g"
indicator = "composite"
key = "*"
type = "band"
field = "score"
bands = [20.0, 40.0, 60.0, 80.0]
labels = ["low", "moderate", "elevated", "high", "extreme"]
[[rules]]
id = "h"
indicator = "psy"
key = "*"
type = "episode_start"
field = "bsadf"
threshold_field = "cv95"
[[rules]]
id = "i"
indicator = "psy"
key = "*"
type = "episode_end"
field = "bsadf"
threshold_field = "cv95"
"""


def test_every_rule_type_is_worded_without_machine_keys() -> None:
    """Rules without label, description or format (the words come from the
    indicators' columns) fire on simple paths; each message, plain text, HTML
    and Slack, shows no field name, dotted key, None or nan."""
    import html as html_lib
    import re

    import pandas as pd

    from alerts.config import parse_rulebook
    from alerts.rules import RuleInput, evaluate_rule
    from bubblewatch.core.universe import default_universe
    from indicators.vocabulary import raw_keys

    uni = default_universe()
    book = parse_rulebook(RULES_OF_EVERY_TYPE, "rules.toml", universe=uni, environ={})
    assert book.problems == ()
    days = pd.date_range("2024-01-01", periods=500, freq="D")
    up = pd.Series([0.5 + i / 200 for i in range(500)], index=days)  # 0.5 -> 3.0
    down = pd.Series([0.0 - i / 1000 for i in range(500)], index=days)
    ep = pd.DataFrame([{"kind": "positive", "start": date(2025, 1, 6), "end": None,
                        "ongoing": True}])
    ended = pd.DataFrame([{"kind": "positive", "start": date(2025, 1, 6),
                           "end": date(2025, 5, 12), "ongoing": False}])
    inputs = {
        "a": ("NVDA", RuleInput(values=up)), "b": ("^IXIC", RuleInput(values=down)),
        "c": ("NVDA", RuleInput(values=up * 40)), "d": ("ai", RuleInput(values=up * 100)),
        "e": ("hyperscalers", RuleInput(values=up * 1e5)),
        "f": ("NVDA", RuleInput(values=up)), "g": ("ai", RuleInput(values=up * 25)),
        "h": ("CSCO", RuleInput(values=up, thresholds=up * 0.5, events=ep,
                                as_of=date(2025, 5, 14))),
        "i": ("CSCO", RuleInput(values=up, thresholds=up * 2, events=ended,
                                as_of=date(2025, 5, 14))),
    }
    views = []
    for r in book.rules:
        key, data = inputs[r.id]
        data = RuleInput(data.values, data.thresholds, data.events, data.as_of,
                         uni.label(key, long=True))
        state = None
        if r.type == "cross":  # a crossing needs a side to cross from
            state = evaluate_rule(r, key, RuleInput(values=data.values.iloc[:10])).state
        if r.type == "episode_end":
            state = evaluate_rule(r, key, RuleInput(events=ep, as_of=date(2025, 5, 1))).state
        out = evaluate_rule(r, key, data, state)
        assert out.alert is not None, (r.id, out.note)
        a = out.alert
        assert not raw_keys(a.title) and not raw_keys(a.explanation), (r.id, a.title)
        views.append(EventView(a.rule_id, a.key, a.indicator, a.field, a.severity, a.as_of,
                               a.value_text, a.threshold_text, a.title, a.explanation,
                               "https://bubblewatch.example.org/", r.label))
    for kind in ("alert", "onboarding"):
        for v in (views if kind == "alert" else [views]):
            group = v if isinstance(v, list) else [v]
            m = render_message(group, key="k" * 32, channel="email", target="a@example.org",
                               subscriber="desk", kind=kind)
            slack = " ".join([(b.get("text") or {}).get("text", "") for b in m.blocks]
                             + [f["text"] for b in m.blocks for f in b.get("fields") or []]
                             + [e["text"] for b in m.blocks for e in b.get("elements") or []])
            for text in (m.subject, m.text, html_lib.unescape(re.sub(r"<[^>]+>", " ", m.html)),
                         re.sub(r":[a-z_]+:", " ", slack)):
                assert not raw_keys(text), (kind, raw_keys(text))
