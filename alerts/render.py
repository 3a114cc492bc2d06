"""Message wording: plain text, HTML and Slack blocks for one alert or a daily
digest. Every message gives the figure, the threshold, the as-of date, a
one-line explanation and a link to the chart on the dashboard."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from alerts.channels.base import OutgoingMessage
from indicators import registry

SEVERITY_ORDER = {"info": 0, "warning": 1, "critical": 2}
_SEVERITY_ICON = {"info": ":information_source:", "warning": ":warning:",
                  "critical": ":rotating_light:"}
#: Slack allows 50 blocks per message; a digest shows this many alerts in full.
SLACK_MAX_EVENTS = 10


@dataclass(frozen=True, slots=True)
class EventView:
    """What a message says about one alert event."""

    rule_id: str
    key: str
    indicator: str
    field: str | None
    severity: str
    as_of: date
    value_text: str
    threshold_text: str
    title: str
    explanation: str
    link: str


def dashboard_link(base_url: str, indicator: str, key: str) -> str:
    """Link to the chart of ``indicator`` for ``key`` on the dashboard; the
    pages select their symbol from the ``symbol`` query parameter."""
    page = registry.get(indicator).page
    query = urlencode({"indicator": indicator, "key": key, "symbol": key})
    return f"{base_url.rstrip('/')}/{page}?{query}"


def render_message(
    events: Sequence[EventView],
    *,
    key: str,
    channel: str,
    target: str,
    subscriber: str,
    digest: bool = False,
) -> OutgoingMessage:
    """The message for ``events`` (one, or a digest of several)."""
    if not events:
        raise ValueError("render_message needs at least one event")
    events = sorted(events, key=lambda e: (-SEVERITY_ORDER.get(e.severity, 0), e.as_of, e.key))
    top = events[0].severity
    if digest or len(events) > 1:
        subject = (f"[bubblewatch] digest: {len(events)} alert{'s' if len(events) > 1 else ''}"
                   f" (highest {top})")
    else:
        subject = f"[bubblewatch] {top.upper()}: {events[0].title}"
    return OutgoingMessage(
        key=key, channel=channel, target=target, subject=subject[:250],
        text=_text(events, key, subscriber, subject),
        html=_html(events, key, subscriber, subject),
        blocks=tuple(_blocks(events, key, subject)),
    )


def _facts(e: EventView) -> list[tuple[str, str]]:
    name = f"{e.indicator}.{e.field}" if e.field else e.indicator
    return [("Figure", e.value_text), ("Threshold", e.threshold_text),
            ("As of", e.as_of.isoformat()), ("Severity", e.severity),
            ("Rule", f"{e.rule_id} ({name}, {e.key})")]


def _footer(key: str, subscriber: str) -> str:
    return (f"Sent by bubblewatch to subscriber '{subscriber}' (delivery {key}). "
            "Change your rules in the alert rules file; list them with `bubblewatch alerts list`.")


def _text(events: Sequence[EventView], key: str, subscriber: str, subject: str) -> str:
    out = [subject.removeprefix("[bubblewatch] "), ""]
    for e in events:
        if len(events) > 1:
            out += [f"* {e.title}"]
        out += [f"  {k + ':':<11}{v}" for k, v in _facts(e)]
        out += ["", f"  {e.explanation}", f"  Chart: {e.link}", ""]
    out += ["-- ", _footer(key, subscriber)]
    return "\n".join(out) + "\n"


def _html(events: Sequence[EventView], key: str, subscriber: str, subject: str) -> str:
    esc = html.escape
    parts = [f"<html><body style=\"font-family:sans-serif\"><h2>{esc(subject)}</h2>"]
    for e in events:
        colour = {"critical": "#b00020", "warning": "#b26a00"}.get(e.severity, "#1a5fb4")
        parts.append(f"<h3 style=\"color:{colour}\">{esc(e.title)}</h3><table>")
        parts += [f"<tr><th align=\"left\">{esc(k)}</th><td>{esc(v)}</td></tr>"
                  for k, v in _facts(e)]
        parts.append(f"</table><p>{esc(e.explanation)}</p>"
                     f"<p><a href=\"{esc(e.link, quote=True)}\">Open the chart</a></p>")
    parts.append(f"<hr><p style=\"color:#666;font-size:small\">{esc(_footer(key, subscriber))}"
                 "</p></body></html>")
    return "".join(parts)


def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _blocks(events: Sequence[EventView], key: str, subject: str) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [{
        "type": "header",
        "text": {"type": "plain_text", "text": subject.removeprefix("[bubblewatch] ")[:150]},
    }]
    for e in events[:SLACK_MAX_EVENTS]:
        icon = _SEVERITY_ICON.get(e.severity, "")
        blocks.append({
            "type": "section",
            "text": {"type": "mrkdwn",
                     "text": f"{icon} *{_mrkdwn(e.title)}*\n{_mrkdwn(e.explanation)}"[:3000]},
            "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{_mrkdwn(v)}"[:2000]}
                       for k, v in _facts(e)[:4]],
        })
        blocks.append({"type": "section",
                       "text": {"type": "mrkdwn", "text": f"<{e.link}|Open the chart>"}})
        blocks.append({"type": "divider"})
    if len(events) > SLACK_MAX_EVENTS:
        more = len(events) - SLACK_MAX_EVENTS
        blocks.append({"type": "section", "text": {
            "type": "mrkdwn", "text": f"…and {more} more; see `bubblewatch alerts history`."}})
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"bubblewatch · delivery `{key}`"}]})
    return blocks
