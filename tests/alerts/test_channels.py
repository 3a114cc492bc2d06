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
    assert VIEW.link == (
        "http://dash.local:8501/explosiveness?indicator=psy&key=%5EIXIC&symbol=%5EIXIC")
    assert dashboard_link("http://d/", "composite", "ai") == "http://d/?indicator=composite&key=ai&symbol=ai"
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
