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
    c1.metric("Active alerts", len(active))
    c2.metric("Recent events", len(events))
    c3.metric("Sent", counts.get("sent", 0))
    c4.metric("Pending / sending", counts.get("pending", 0) + counts.get("sending", 0))
    c5.metric("Failed", counts.get("failed", 0))

    st.subheader("Recent events")
    if events.empty:
        ui.empty_state("alert events", ui.CMD_ALERTS_CHECK,
                       "No rule has fired yet on the stored indicators.")
    else:
        keys = sorted(events["key"].astype(str).unique())
        pick = st.multiselect("Filter by key", keys, key="w_alert_keys")
        shown = events[events["key"].isin(pick)] if pick else events
        cols = [c for c in ("as_of", "severity", "title", "rule_id", "key", "indicator", "field",
                            "value_text", "threshold_text", "condition", "previous", "link",
                            "created_at") if c in shown.columns]
        st.dataframe(shown[cols], hide_index=True, key="alert_events",
                     column_config={"link": st.column_config.LinkColumn("link")})
        ui.download(shown[cols], "alert-events", key="alert_events",
                    label="Download events (CSV)")

    st.subheader("Delivery status")
    if deliveries.empty:
        ui.empty_state("deliveries", ui.CMD_ALERTS_SEND,
                       "Deliveries appear once an alert fires for a subscriber.")
    else:
        statuses = sorted(deliveries["status"].astype(str).unique())
        status = st.multiselect("Status", statuses, key="w_delivery_status")
        shown_d = deliveries[deliveries["status"].isin(status)] if status else deliveries
        title_by_id = events.set_index("id")["title"] if "id" in events.columns else pd.Series()
        shown_d = shown_d.assign(alert=shown_d["event_id"].map(title_by_id)) \
            if "event_id" in shown_d.columns else shown_d
        cols = [c for c in ("status", "alert", "subscriber", "channel", "target", "mode",
                            "attempts", "next_attempt_at", "sent_at", "last_error")
                if c in shown_d.columns]
        st.dataframe(shown_d[cols], hide_index=True, key="alert_deliveries")
        ui.download(shown_d[cols], "alert-deliveries", key="alert_deliveries",
                    label="Download deliveries (CSV)")

st.subheader("Rules and subscriptions")
rules_file = ctx.settings.alerts.rules_file
book = data.rulebook(str(rules_file) if rules_file else None)
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
    st.dataframe(subs, hide_index=True, key="subscribers")
rules = book["rules"]
if not rules.empty:
    with st.expander(f"{len(rules)} rules", expanded=False):
        st.dataframe(rules, hide_index=True, key="rules")
