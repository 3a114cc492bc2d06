"""Delivery channels. Each implements :class:`Notifier`: transport only, no
rendering and no bookkeeping (that is :mod:`alerts.outbox`)."""

from __future__ import annotations

from alerts.channels.base import Notifier, OutgoingMessage

__all__ = ["Notifier", "OutgoingMessage"]
