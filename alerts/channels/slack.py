"""Slack incoming webhooks (Block Kit messages).

The webhook URL is a secret: it is read from the environment variable named
by the delivery's target at send time, and never appears in errors, logs or
the database (messages name the variable instead).

Answers: 2xx sent; 429 retried after ``Retry-After``; 5xx and network errors
retried with backoff; other 4xx (revoked webhook, bad payload) failed.
See https://api.slack.com/messaging/webhooks#handling_errors.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import httpx

from alerts.channels.base import KEY_HEADER, OutgoingMessage
from bubblewatch.core.errors import DeliveryError


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds form; HTTP dates are rare on
    Slack and fall back to the outbox backoff)."""
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None


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
        payload = {"text": message.subject, "blocks": list(message.blocks)}
        try:
            with httpx.Client(timeout=self.timeout_s, transport=self.transport) as client:
                resp = client.post(url, json=payload, headers={KEY_HEADER: message.key})
        except httpx.HTTPError as exc:
            detail = str(exc).replace(url, f"${var}") or type(exc).__name__
            raise DeliveryError(f"Slack webhook ${var} unreachable: {type(exc).__name__}: "
                                f"{detail}", retryable=True) from None
        if resp.is_success:
            return
        body = resp.text[:200].replace(url, f"${var}").strip()
        code = resp.status_code
        if code == 429:
            wait = retry_after_seconds(resp.headers.get("Retry-After"))
            raise DeliveryError(
                f"Slack webhook ${var} rate-limited the message (429); retry after "
                f"{wait if wait is not None else 'backoff'} s", retryable=True, retry_after=wait,
            )
        if code >= 500:
            raise DeliveryError(f"Slack webhook ${var} answered {code} {body}", retryable=True)
        raise DeliveryError(
            f"Slack webhook ${var} refused the message: {code} {body} (check that the webhook "
            "still exists; the delivery is marked failed)", retryable=False,
        )
