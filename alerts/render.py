"""Message wording: plain text, HTML and Slack blocks for one alert, a daily
digest, or the onboarding digest of the current state.

Every alert says what crossed what (the figure and the threshold in the
field's unit), since when, what it means (the rule's description) and, when
``BUBBLEWATCH_PUBLIC_URL`` is set, links to its chart on the dashboard
(without it there is no link: a ``127.0.0.1`` link is useless off the host).
Dates are exchange trading days in New York.

Kinds of message (:data:`KINDS`):

``alert``
    One alert (immediate delivery).
``digest``
    A subscriber's daily digest of the alerts since the last one.
``onboarding``
    The first message a subscriber channel ever gets: every condition its
    rules see holding now, in one message instead of one per condition.
``catchup``
    The same after a long gap in evaluations
    (:data:`alerts.config.CATCH_UP_AFTER_DAYS`).

Slack messages stay within Slack's limits (:data:`SLACK_MAX_BLOCKS` blocks,
:data:`SLACK_MAX_TEXT` characters per text, :func:`check_slack_blocks`); longer
lists are packed into compact lines and end with how many more there are.
"""

from __future__ import annotations

import html
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode

from alerts.channels.base import OutgoingMessage
from indicators import registry

SEVERITY_ORDER = {"info": 0, "warning": 1, "critical": 2}
_SEVERITY_ICON = {"info": ":information_source:", "warning": ":warning:",
                  "critical": ":rotating_light:"}
_SEVERITY_COLOUR = {"critical": "#b00020", "warning": "#b26a00", "info": "#1a5fb4"}
KINDS = ("alert", "digest", "onboarding", "catchup")

#: Slack's limits for one message (https://api.slack.com/reference/block-kit/blocks).
SLACK_MAX_BLOCKS = 50
SLACK_MAX_TEXT = 3000
SLACK_MAX_HEADER = 150
SLACK_MAX_FIELD = 2000
SLACK_MAX_FIELDS = 10
#: A digest shows this many alerts in full on Slack; longer lists are packed into lines.
SLACK_FULL_EVENTS = 12

#: How dates in messages are meant.
DATE_NOTE = "trading day, New York"
#: Width of the plain-text e-mail body.
TEXT_WIDTH = 76


@dataclass(frozen=True, slots=True)
class EventView:
    """What a message says about one alert event.

    ``link`` is empty when no public dashboard address is configured;
    ``rule_label`` is the rule's name for people (its id when the rule is no
    longer in the rules file).
    """

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
    rule_label: str = ""

    @property
    def happened(self) -> str:
        """The first paragraph of the explanation: what happened, since when."""
        return self.explanation.split("\n\n", 1)[0].strip()

    @property
    def meaning(self) -> str:
        """The second paragraph: what it means (may be empty)."""
        parts = self.explanation.split("\n\n", 1)
        return parts[1].strip() if len(parts) > 1 else ""


def page_query(indicator: str, key: str) -> str:
    """The query string that opens ``indicator``'s chart of ``key`` on its page."""
    param = "pair" if indicator == "analog" else "symbol"
    return urlencode({param: key})


def dashboard_link(public_url: str | None, indicator: str, key: str) -> str:
    """Link to the chart of ``indicator`` for ``key`` on the dashboard at
    ``public_url`` (``BUBBLEWATCH_PUBLIC_URL``); ``""`` when it is not set."""
    if not public_url:
        return ""
    page = registry.get(indicator).page
    path = f"{page}?{page_query(indicator, key)}" if page else f"?{page_query(indicator, key)}"
    return f"{public_url.rstrip('/')}/{path}"


def render_message(
    events: Sequence[EventView],
    *,
    key: str,
    channel: str,
    target: str,
    subscriber: str,
    digest: bool = False,
    kind: str | None = None,
    public_url: str | None = None,
) -> OutgoingMessage:
    """The message for ``events``.

    ``kind`` is one of :data:`KINDS` (default: ``digest`` when ``digest`` or
    several events, else ``alert``); ``public_url`` links the message to the
    dashboard's front page as well.
    """
    if not events:
        raise ValueError("render_message needs at least one event")
    kind = kind or ("digest" if digest or len(events) > 1 else "alert")
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}; one of {', '.join(KINDS)}")
    events = sorted(events, key=lambda e: (-SEVERITY_ORDER.get(e.severity, 0), e.as_of, e.key))
    subject = _subject(events, kind)
    intro = _intro(events, kind, subscriber)
    return OutgoingMessage(
        key=key, channel=channel, target=target, subject=subject[:250],
        text=_text(events, key, subscriber, subject, intro, public_url),
        html=_html(events, key, subscriber, subject, intro, public_url),
        blocks=tuple(_blocks(events, key, subject, intro, public_url)),
    )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _subject(events: Sequence[EventView], kind: str) -> str:
    top = events[0].severity
    n = len(events)
    if kind == "alert":
        return f"[bubblewatch] {top.upper()}: {events[0].title}"
    if kind == "onboarding":
        return (f"[bubblewatch] Where things stand: {_plural(n, 'condition')} "
                f"{'holds' if n == 1 else 'hold'} now (highest: {top})")
    if kind == "catchup":
        return (f"[bubblewatch] Catching up: {_plural(n, 'condition')} "
                f"{'holds' if n == 1 else 'hold'} now (highest: {top})")
    return f"[bubblewatch] Daily digest: {_plural(n, 'alert')} (highest: {top})"


def _intro(events: Sequence[EventView], kind: str, subscriber: str) -> str:
    newest = max(e.as_of for e in events)
    if kind == "onboarding":
        return (f"Welcome, {subscriber}. This is the first message bubblewatch sends you: "
                f"instead of one message per condition, here is everything your rules see "
                f"holding as of {newest} ({DATE_NOTE}), most severe first, each with the date "
                "it has held since. From now on you hear from bubblewatch when something "
                "changes.")
    if kind == "catchup":
        return ("bubblewatch had not evaluated the rules for a long while, so here is where "
                f"things stand as of {newest} ({DATE_NOTE}) in one message instead of a burst "
                "of separate alerts.")
    if kind == "digest":
        return f"The alerts of the last day, most severe first (as of {newest}, {DATE_NOTE})."
    return ""


def _facts(e: EventView) -> list[tuple[str, str]]:
    """Figure, threshold (when the rule has one), date, severity and rule."""
    facts = [("Figure", e.value_text)]
    if e.threshold_text and e.threshold_text not in ("no value", "n/a"):
        facts.append(("Threshold", e.threshold_text))
    return [*facts, ("As of", f"{e.as_of.isoformat()} ({DATE_NOTE})"), ("Severity", e.severity),
            ("Rule", e.rule_label or e.title)]


def _footer(key: str, subscriber: str) -> str:
    return (f"Sent by bubblewatch to subscriber {subscriber} (delivery {key}). "
            "Rules and subscriptions live in the alert rules file; list them with "
            "`bubblewatch alerts list`.")


# --------------------------------------------------------------------------- plain text
def _wrap(text: str, indent: str = "") -> list[str]:
    out: list[str] = []
    for para in text.split("\n"):
        out += textwrap.wrap(para, TEXT_WIDTH, initial_indent=indent, subsequent_indent=indent,
                             break_long_words=False, break_on_hyphens=False) or [""]
    return out


def _text(events: Sequence[EventView], key: str, subscriber: str, subject: str, intro: str,
          public_url: str | None) -> str:
    out = [subject.removeprefix("[bubblewatch] "), ""]
    if intro:
        out += [*_wrap(intro), ""]
    many = len(events) > 1
    for i, e in enumerate(events, start=1):
        out += [*_wrap(f"{i}. {e.title}" if many else e.title), ""]
        out += [f"   {k + ':':<11}{v}" for k, v in _facts(e)]
        out += ["", *_wrap(f"What happened: {e.happened}", "   ")]
        if e.meaning:
            out += ["", *_wrap(f"What it means: {e.meaning}", "   ")]
        if e.link:
            out += ["", f"   Chart: {e.link}"]
        out.append("")
    if public_url:
        out += [f"Dashboard: {public_url}", ""]
    out += ["-- ", *_wrap(_footer(key, subscriber))]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- HTML
def _html(events: Sequence[EventView], key: str, subscriber: str, subject: str, intro: str,
          public_url: str | None) -> str:
    esc = html.escape
    parts = [("<!DOCTYPE html><html><body style=\"font-family:Helvetica,Arial,sans-serif;"
             "color:#222;max-width:680px;line-height:1.45\">"),
             f"<h2 style=\"font-size:20px\">{esc(subject.removeprefix('[bubblewatch] '))}</h2>"]
    if intro:
        parts.append(f"<p>{esc(intro)}</p>")
    for e in events:
        colour = _SEVERITY_COLOUR.get(e.severity, "#1a5fb4")
        parts.append(f"<h3 style=\"color:{colour};font-size:16px;margin-bottom:4px\">"
                     f"{esc(e.title)}</h3>"
                     "<table style=\"border-collapse:collapse;font-size:14px\">")
        parts += [f"<tr><th align=\"left\" style=\"padding:2px 12px 2px 0;color:#555\">"
                  f"{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in _facts(e)]
        parts.append(f"</table><p><b>What happened:</b> {esc(e.happened)}</p>")
        if e.meaning:
            parts.append(f"<p><b>What it means:</b> {esc(e.meaning)}</p>")
        if e.link:
            parts.append(f"<p><a href=\"{esc(e.link, quote=True)}\">Open the chart</a></p>")
    if public_url:
        parts.append(f"<p><a href=\"{esc(public_url, quote=True)}\">Open the dashboard</a></p>")
    parts.append(f"<hr><p style=\"color:#666;font-size:12px\">{esc(_footer(key, subscriber))}"
                 "</p></body></html>")
    return "".join(parts)


# --------------------------------------------------------------------------- Slack
def _mrkdwn(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _section(text: str, fields: Sequence[str] = ()) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "section",
                             "text": {"type": "mrkdwn", "text": _cut(text, SLACK_MAX_TEXT)}}
    if fields:
        block["fields"] = [{"type": "mrkdwn", "text": _cut(f, SLACK_MAX_FIELD)}
                           for f in fields[:SLACK_MAX_FIELDS]]
    return block


def _event_text(e: EventView) -> str:
    icon = _SEVERITY_ICON.get(e.severity, "")
    text = f"{icon} *{_mrkdwn(e.title)}*\n{_mrkdwn(e.happened)}"
    if e.meaning:
        text += f"\n_What it means:_ {_mrkdwn(e.meaning)}"
    link = f"\n<{e.link}|Open the chart>" if e.link else ""
    return _cut(text, SLACK_MAX_TEXT - len(link)) + link


def _event_line(e: EventView) -> str:
    icon = _SEVERITY_ICON.get(e.severity, "")
    title = f"<{e.link}|{_mrkdwn(e.title)}>" if e.link else _mrkdwn(e.title)
    return f"{icon} {title}"


def _blocks(events: Sequence[EventView], key: str, subject: str, intro: str,
            public_url: str | None) -> list[dict[str, Any]]:
    head: list[dict[str, Any]] = [{
        "type": "header",
        "text": {"type": "plain_text",
                 "text": _cut(subject.removeprefix("[bubblewatch] "), SLACK_MAX_HEADER)},
    }]
    if intro:
        head.append(_section(_mrkdwn(intro)))
    footer = [{"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(
        "bubblewatch" + (f" · <{public_url}|dashboard>" if public_url else "")
        + f" · delivery {key}", SLACK_MAX_TEXT)}]}]
    body: list[dict[str, Any]] = []
    if len(events) <= SLACK_FULL_EVENTS:
        for e in events:
            body.append(_section(_event_text(e), [f"*{k}*\n{_mrkdwn(v)}"
                                                  for k, v in _facts(e)[:4]]))
            body.append({"type": "divider"})
    else:
        room = SLACK_MAX_BLOCKS - len(head) - len(footer) - 1  # one for "and N more"
        sections: list[list[str]] = []
        current: list[str] = []
        shown = 0
        for e in events:
            line = _cut(_event_line(e), SLACK_MAX_TEXT)
            if current and len("\n".join([*current, line])) > SLACK_MAX_TEXT:
                sections.append(current)
                current = []
                if len(sections) >= room:
                    break
            current.append(line)
            shown += 1
        if current:
            sections.append(current)
        body = [_section("\n".join(lines)) for lines in sections]
        if shown < len(events):
            body.append(_section(f"…and {len(events) - shown} more; see the Alerts page or "
                                 "`bubblewatch alerts history`."))
    return head + body + footer


def check_slack_blocks(blocks: Sequence[Mapping[str, Any]]) -> None:
    """Raise ``ValueError`` if ``blocks`` break Slack's limits (block count,
    text and field lengths, header length, fields per section)."""
    if len(blocks) > SLACK_MAX_BLOCKS:
        raise ValueError(f"{len(blocks)} blocks; Slack allows {SLACK_MAX_BLOCKS}")
    for i, b in enumerate(blocks):
        text = (b.get("text") or {}).get("text", "")
        limit = SLACK_MAX_HEADER if b.get("type") == "header" else SLACK_MAX_TEXT
        if len(text) > limit:
            raise ValueError(f"block {i}: text of {len(text)} characters; the limit is {limit}")
        fields = b.get("fields") or []
        if len(fields) > SLACK_MAX_FIELDS:
            raise ValueError(f"block {i}: {len(fields)} fields; the limit is {SLACK_MAX_FIELDS}")
        for f in fields:
            if len(f.get("text", "")) > SLACK_MAX_FIELD:
                raise ValueError(f"block {i}: a field of {len(f['text'])} characters; the "
                                 f"limit is {SLACK_MAX_FIELD}")
        for el in b.get("elements") or []:
            if len(el.get("text", "")) > SLACK_MAX_TEXT:
                raise ValueError(f"block {i}: an element of {len(el['text'])} characters")
