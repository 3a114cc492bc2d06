"""The message every channel sends, and the :class:`Notifier` protocol."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

#: Header carrying the idempotency key (e-mail and Slack webhook requests).
KEY_HEADER = "X-Bubblewatch-Delivery-Key"


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A rendered message for one target.

    ``key`` is the idempotency key: the same delivery retried (after a failure
    or a crash) carries the same key, so a receiver can drop the duplicate.
    ``target`` is an e-mail address or the *name* of the environment variable
    holding a Slack webhook URL.
    """

    key: str
    channel: str
    target: str
    subject: str
    text: str
    html: str
    blocks: Sequence[Mapping[str, Any]] = field(default_factory=tuple)


class Notifier(Protocol):
    """Sends one message; raises :class:`~bubblewatch.core.errors.DeliveryError`
    (``retryable`` and ``retry_after`` say what the outbox should do)."""

    channel: str

    def send(self, message: OutgoingMessage) -> None: ...
