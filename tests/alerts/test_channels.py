"""Channel transports on their own: SMTP security modes and refusals, Slack
secrets kept out of errors, message rendering."""

from __future__ import annotations

from datetime import date

import pytest

from alerts.channels.email import EmailNotifier
from alerts.channels.slack import SlackNotifier, retry_after_seconds
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


@pytest.mark.parametrize(("header", "seconds"), [("30", 30.0), (" 2.5 ", 2.5), ("", None),
                                                 ("Wed, 21 Oct 2015 07:28:00 GMT", None)])
def test_retry_after_parsing(header: str, seconds: float | None) -> None:
    assert retry_after_seconds(header) == seconds
