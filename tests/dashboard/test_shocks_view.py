"""The Policy & shocks tables for people: keys, events and categories in
words, the frames behind the downloads unchanged."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dashboard import shocks_view as sv
from dashboard import transforms as tf
from dashboard import ui
from indicators.shocks import DatedFigure, ShocksMeta, ShrugReading

EVENTS = {"h20_licence": "H20 export licence requirement (2025-04-15)",
          "deepseek_shock": "DeepSeek shock (2025-01-27)",
          "deepseek_shock_2": "A second DeepSeek day (2025-01-28)"}
NAMES = {"ai": "AI cycle", "ai_basket": "AI basket", "NVDA": "NVDA"}


def _meta() -> ShocksMeta:
    reading = ShrugReading(
        subject="ai_basket", category="export_control", era="ai", measure="recovery",
        window="[0,+5]", x="order", n=3, events=["h20_licence", "deepseek_shock_2"],
        values=[1.0, 2.0, 3.0], slope=-0.5, t=-1.23456, p=0.34567, reading="no clear trend",
        notes=["left out, not yet recovered: deepseek_shock_2, h20_licence"])
    charge = DatedFigure(
        key="nvda_h20_charge_guidance_2025_04", entity="NVDA",
        metric="inventory_charge_guidance", what="announced charge",
        period_start=date(2025, 4, 15), period_end=date(2025, 4, 15), period="day",
        value=5500.0, unit="USD m", label="Expected H20 charges", source_tag="S",
        event="h20_licence")
    booked = charge.model_copy(update={"key": "nvda_h20_charge_q1fy2026", "event": None,
                                       "label": "H20 charge booked"})
    return ShocksMeta(kind="cohort", shrug_off=[reading], charges=[charge, booked])


def test_shrug_view_names_keys_events_and_categories():
    metas = {"ai": _meta()}
    raw = sv.shrug_table(metas, ["ai"])
    shown = sv.shrug_view(raw, NAMES.__getitem__, EVENTS)
    row = shown.iloc[0]
    assert list(shown.columns) == list(sv.SHRUG_HEADERS.values())
    assert (row["Study of"], row["Measured on"]) == ("AI cycle", "AI basket")
    assert (row["Category"], row["Cycle"], row["Measure"]) == (
        "US export controls", "AI cycle", "Recovery time")
    # the longer key is not cut at the shorter one it starts with
    assert row["Events studied"] == ("H20 export licence requirement (2025-04-15); "
                                     "A second DeepSeek day (2025-01-28)")
    assert row["Notes"] == ("left out, not yet recovered: A second DeepSeek day (2025-01-28), "
                            "H20 export licence requirement (2025-04-15)")
    assert (row["t"], row["p"]) == (-1.23, 0.346)
    # the download keeps the keys
    assert raw.loc[0, "events"] == "h20_licence, deepseek_shock_2"
    assert raw.loc[0, "category"] == "export_control" and raw.loc[0, "t"] == -1.23456


def test_charges_view_shows_labels_and_event_titles_keeps_gaps():
    raw = sv.charges_frame({"NVDA": _meta()})
    shown = sv.charges_view(raw, NAMES.__getitem__, EVENTS)
    assert list(shown.columns) == list(sv.CHARGE_HEADERS.values())
    assert list(shown["Figure"]) == ["Expected H20 charges", "H20 charge booked"]
    assert shown["After event"].iloc[0] == "H20 export licence requirement (2025-04-15)"
    assert pd.isna(shown["After event"].iloc[1])
    view = ui.table_view(shown)  # what the page shows: a gap reads "–", dates as days
    assert view["After event"].iloc[1] == "–" and view["Period start"].iloc[0] == "2025-04-15"
    assert "key" in raw.columns and raw["event"].iloc[0] == "h20_licence"


def test_keys_in_words_replaces_whole_keys_only():
    got = tf.keys_in_words(pd.Series(["deepseek_shock_2 and deepseek_shock; my_deepseek_shock"]),
                           EVENTS)
    assert got.iloc[0] == ("A second DeepSeek day (2025-01-28) and DeepSeek shock (2025-01-27); "
                           "my_deepseek_shock")
