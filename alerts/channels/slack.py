"""Slack incoming webhooks (Block Kit messages).

The webhook URL is a secret: it is read from the environment variable named
by the delivery's target at send time, and never appears in errors, logs or
the database (messages name the variable instead). It must be an ``https://``
URL (plain ``http://`` only to this machine, for local relays and tests).
Slack's answers may echo the webhook path; :func:`redact_webhooks` removes it
from every error before it is raised, stored or printed.

Answers: 2xx sent; 429 retried after ``Retry-After`` (seconds or an HTTP date,
clamped to 0 .. :data:`MAX_RETRY_AFTER_S`; anything unreadable falls back to
the outbox backoff); 5xx and network errors retried with backoff; other 4xx
(revoked webhook, bad payload) failed.
See https://api.slack.com/messaging/webhooks#handling_errors.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpx

from alerts.channels.base import KEY_HEADER, OutgoingMessage
from bubblewatch.core.errors import DeliveryError

#: Longest wait a ``Retry-After`` can ask for (s); longer, infinite or huge
#: values are cut to it (the outbox's longest backoff, 1 h).
MAX_RETRY_AFTER_S = 3600.0

#: Webhook URLs and paths (``/services/T…/B…/token``) in free text.
_WEBHOOK = re.compile(r"https?://hooks\.slack(?:-gov)?\.com/\S*|/services/[A-Za-z0-9_/-]+",
                      re.IGNORECASE)
#: What a hidden webhook path is shown as.
HIDDEN = "/services/***"
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date, clamped to
    ``[0, MAX_RETRY_AFTER_S]``; None (use the backoff) when it cannot be read."""
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds):
        return None
    return min(MAX_RETRY_AFTER_S, max(0.0, seconds))


def redact_webhooks(text: str, url: str | None = None, var: str | None = None) -> str:
    """``text`` without the webhook ``url`` (shown as ``$var``), its path or
    its secret last part, nor any other Slack webhook URL or path."""
    if url:
        shown = f"${var}" if var else HIDDEN
        path = urlsplit(url).path
        token = path.rstrip("/").rsplit("/", 1)[-1]
        for secret in sorted({url, url.rstrip("/"), path, token}, key=len, reverse=True):
            if len(secret) >= 6:
                text = text.replace(secret, shown)
    return _WEBHOOK.sub(HIDDEN, text)


def check_webhook_url(url: str, var: str) -> None:
    """Raise a permanent :class:`DeliveryError` naming ``var`` (never the URL)
    unless ``url`` is an ``https://`` URL with a host (``http://`` to this machine)."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    ok = parts is not None and bool(host) and (
        parts.scheme == "https" or (parts.scheme == "http" and host in _LOOPBACK))
    if not ok:
        raise DeliveryError(
            f"the Slack webhook in ${var} is not an https:// URL with a host; set {var} to the "
            "webhook URL Slack gave (https://hooks.slack.com/services/...)", retryable=False,
        )


class SlackNotifier:
    """POSTs ``{"text", "blocks"}`` to the webhook URL held in the environment
    variable ``message.target``.

    ``transport`` replaces httpx's network transport (tests); ``environ``
    replaces ``os.environ``.
    """

    channel = "slack"

    def __init__(self, timeout_s: float = 10.0, *, environ: Mapping[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None):
        self.timeout_s = timeout_s
        self.environ = environ
        self.transport = transport

    def send(self, message: OutgoingMessage) -> None:
        env = os.environ if self.environ is None else self.environ
        var = message.target
        url = env.get(var, "")
        if not url:
            raise DeliveryError(
                f"Slack webhook variable {var} is not set in this process; export it with the "
                "webhook URL (the delivery is kept and retried)", retryable=True,
            )
        check_webhook_url(url, var)
        payload = {"text": message.subject, "blocks": list(message.blocks)}
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self.transport) as client:
                resp = client.post(url, json=payload, headers={KEY_HEADER: message.key})
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            detail = redact_webhooks(str(exc), url, var) or type(exc).__name__
            raise DeliveryError(f"Slack webhook ${var} unreachable: {type(exc).__name__}: "
                                f"{detail}", retryable=True) from None
        if resp.is_success:
            return
        body = redact_webhooks(resp.text[:200], url, var).strip()
        code = resp.status_code
        if code == 429:
            wait = retry_after_seconds(resp.headers.get("Retry-After"))
            raise DeliveryError(
                f"Slack webhook ${var} rate-limited the message (429); retry after "
                + (f"{wait:g} s" if wait is not None else "the usual backoff"),
                retryable=True, retry_after=wait,
            )
        if code >= 500:
            raise DeliveryError(f"Slack webhook ${var} answered {code} {body}", retryable=True)
        raise DeliveryError(
            f"Slack webhook ${var} refused the message: {code} {body} (check that the webhook "
            "still exists; the delivery is marked failed)", retryable=False,
        )
