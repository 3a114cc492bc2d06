"""Alerts: recent events, delivery status of the outbox, rules and
subscriptions (secrets masked: Slack shows only the name of its variable)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import chrome, data, ui
from dashboard import transforms as tf

ctx = ui.context()
url = ctx.url

st.title("Alerts")

rules_file = ctx.settings.alerts.rules_file
book = data.rulebook(str(rules_file) if rules_file else None)
rule_names = book["labels"]

#: How each delivery mode reads.
MODES = {"immediate": "at once", "digest": "daily digest", "onboarding": "onboarding digest",
         "catchup": "catch-up digest"}

tables = data.alert_tables(url)
if "alert_event" not in tables:
    ui.empty_state("alert tables", "bubblewatch db-upgrade",
                   f"Then evaluate the rules with `{ui.CMD_ALERTS_CHECK}`.")
else:
    events = tables["alert_event"]
    deliveries = tables.get("alert_delivery", pd.DataFrame())
    states = tables.get("alert_state", pd.DataFrame())
    active = tf.active_alerts(events, states)
    counts = (deliveries["status"].value_counts().to_dict()
              if not deliveries.empty and "status" in deliveries.columns else {})
    c1, c2, c3, c4, c5 = st.columns(5)
    c1.metric("Active alerts", len(active), help="alerts whose condition still holds")
    c2.metric("Recent events", len(events))
    c3.metric("Sent", counts.get("sent", 0))
    c4.metric("Waiting", counts.get("pending", 0) + counts.get("sending", 0),
              help="queued or being sent")
    c5.metric("Failed", counts.get("failed", 0))

    st.subheader("Recent events")
    if events.empty:
        ui.empty_state("alert events", ui.CMD_ALERTS_CHECK,
                       "No rule has fired yet on the stored indicators.")
    else:
        keys = sorted(events["key"].astype(str).unique())
        pick = st.multiselect("Show only", keys, key="w_alert_keys",
                              format_func=lambda k: ui.key_label(k, long=True))
        shown = events[events["key"].isin(pick)] if pick else events
        holds = set(zip(active.get("rule_id", []), active.get("key", []), strict=False))
        view = pd.DataFrame({
            "as_of": pd.to_datetime(shown["as_of"]),
            "severity": shown["severity"],
            "title": shown["title"],
            "rule": [rule_names.get(r, "(no longer in the rules file)")
                     for r in shown["rule_id"]],
            "value_text": shown["value_text"],
            "threshold_text": shown["threshold_text"].replace({"no value": "–", "n/a": "–"}),
            "holds": ["yes" if (r, k) in holds else "no"
                      for r, k in zip(shown["rule_id"], shown["key"], strict=True)],
            "link": shown["link"].fillna(""),
            "created_at": pd.to_datetime(shown["created_at"], utc=True),
        })
        ui.table(view, key="alert_events", names={
            "as_of": "As of (New York)", "severity": "Severity", "title": "Alert",
            "rule": "Rule", "value_text": "Figure", "threshold_text": "Threshold",
            "holds": "Still holds", "link": "Chart", "created_at": "Recorded (UTC)"},
            links=("link",), column_config={"Chart": st.column_config.LinkColumn("Chart", display_text="open")})
        if not ctx.settings.public_url:
            st.caption("Alerts carry no chart link: set `BUBBLEWATCH_PUBLIC_URL` to the address "
                       "people open the dashboard at.")
        ui.download(shown, "alert-events", key="alert_events", label="Download events (CSV)",
                    about={"title": "Alert events", "source": "bubblewatch alert history"})

    st.subheader("Delivery status")
    if deliveries.empty:
        ui.empty_state("deliveries", ui.CMD_ALERTS_SEND,
                       "Deliveries appear once an alert fires for a subscriber.")
    else:
        statuses = sorted(deliveries["status"].astype(str).unique())
        status = st.multiselect("Status", statuses, key="w_delivery_status")
        shown_d = deliveries[deliveries["status"].isin(status)] if status else deliveries
        title_by_id = (events.set_index("id")["title"] if "id" in events.columns
                       else pd.Series(dtype=str))
        view_d = pd.DataFrame({
            "status": shown_d["status"],
            "alert": shown_d["event_id"].map(title_by_id),
            "subscriber": shown_d["subscriber"],
            "channel": shown_d["channel"].replace({"email": "e-mail", "slack": "Slack"}),
            "target": shown_d["target"],
            "mode": shown_d["mode"].map(lambda m: MODES.get(str(m), str(m))),
            "attempts": shown_d["attempts"],
            "next_attempt_at": pd.to_datetime(shown_d["next_attempt_at"], utc=True),
            "sent_at": pd.to_datetime(shown_d["sent_at"], utc=True),
            "last_error": shown_d["last_error"],
        })
        ui.table(view_d, key="alert_deliveries", names={
            "status": "Status", "alert": "Alert", "subscriber": "Subscriber",
            "channel": "Channel", "target": "Target", "mode": "Sent as",
            "attempts": "Attempts", "next_attempt_at": "Next attempt (UTC)",
            "sent_at": "Sent (UTC)", "last_error": "Last error"})
        ui.download(shown_d, "alert-deliveries", key="alert_deliveries",
                    label="Download deliveries (CSV)",
                    about={"title": "Alert deliveries", "source": "bubblewatch alert outbox"})

st.subheader("Rules and subscriptions")
st.caption(f"Rules file: `{book['path']}`"
           + ("" if rules_file else " (set `BUBBLEWATCH_ALERTS__RULES_FILE` to use your own)"))
if book["error"]:  # rules-file text below is shown as written, never as Markdown
    st.error(f"**The rules file cannot be used:** {chrome.plain(book['error'])}")
for p in book["problems"]:
    st.warning(chrome.plain(p))
subs = book["subscribers"]
if subs.empty:
    st.info("No subscribers: add `[[subscribers]]` tables to the rules file; Slack webhooks are "
            "given as the *name* of an environment variable, never the URL.")
else:
    ui.table(subs, key="subscribers", names={
        "subscriber": "Subscriber", "channel": "Channel", "target": "Target",
        "rules": "Receives", "mode": "Delivery"})
rules = book["rules"]
if not rules.empty:
    with st.expander(f"{len(rules)} rules", expanded=False):
        ui.table(rules, key="rules", names={
            "rule": "Rule", "description": "What it means", "keys": "For",
            "severity": "Severity", "cooldown_days": "Cool-down (days)"},
            column_config={"What it means": st.column_config.TextColumn(width="large")})
