"""Alerts: rules over stored indicators, state per (rule, key), a persistent
outbox, and e-mail / Slack delivery (see :mod:`alerts.service`)."""
