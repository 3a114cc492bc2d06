"""The Track record and Scanner tables for people: signals, keys, rules and
headers in words, gaps shown as '–', the frames behind the downloads
unchanged (machine keys kept)."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from dashboard import scanner_view as sv
from dashboard import track_record_view as tv
from dashboard import ui
from indicators.lead_time import alarm_table, lead_table
from indicators.pit_replay import PROCEDURES
from indicators.track_record import COLUMNS, SIGNALS
from indicators.vocabulary import raw_keys, signal_label, signal_labels

NAMES = {"ai": "AI cycle", "dotcom": "Dot-com cycle", "index": "Market indices"}


def _clean(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Machine keys among a shown frame's headers and cells (empty when clean)."""
    texts = [str(c) for c in frame.columns] + [
        "None" if x is None else str(x) for x in frame.to_numpy().ravel().tolist()]
    return {t: raw_keys(t) for t in texts if raw_keys(t)}


def test_every_signal_has_one_name_for_people() -> None:
    """Each signal the backtest judges has a name in words, distinct from the
    others, used by the flag columns too; an unknown one is refused with the
    list of known ones."""
    assert list(signal_labels()) == list(SIGNALS)
    assert set(PROCEDURES) < set(SIGNALS)
    names = [signal_label(s) for s in SIGNALS]
    assert len(set(names)) == len(names)
    assert not [(n, raw_keys(n)) for n in names if raw_keys(n)]
    assert signal_label("psy_pointwise") == "PSY, pointwise"
    assert COLUMNS["flag_ps2020"].label == "Flag: Phillips-Shi 2020"
    with pytest.raises(KeyError, match="'gsadf' is unknown; signals: composite, psy_pointwise"):
        signal_label("gsadf")


def _flags() -> tuple[dict[str, dict[str, pd.Series]], dict[str, pd.Series]]:
    idx = pd.date_range("1999-01-01", periods=8, freq="W-FRI")
    flags = {"dotcom": {"composite": pd.Series([0, 0, 1, 1, 0, 0, 0, 0.0], index=idx),
                        "hb": pd.Series(0.0, index=idx)}}
    calm = {"dotcom": pd.Series([1, 1, 1, 1, 0, 0, np.nan, np.nan], index=idx)}
    return flags, calm


def test_lead_and_alarm_views_speak_words_and_leave_gaps_empty() -> None:
    flags, calm = _flags()
    leads = lead_table(flags, {"dotcom": [(date(1999, 2, 12), "reference"),
                                          (date(1999, 2, 26), "found")]})
    shown = ui.table_view(tv.lead_view(leads))
    assert list(shown.columns) == ["Peak", "Peak from", "Headline (warn band)", "Homm-Breitung"]
    assert list(shown["Peak from"]) == ["reference peak", "found: a 40% fall followed"]
    assert shown["Homm-Breitung"].tolist() == ["no warning", "no warning"]
    assert shown["Headline (warn band)"].iloc[0].startswith("1999-01-15 (4 weeks)")
    assert not _clean(shown)

    alarms = alarm_table(flags, calm)
    shown = ui.table_view(tv.alarm_view(alarms))
    assert list(shown.columns) == list(tv.ALARM_HEADERS.values())
    row = shown.set_index("Signal").loc["Headline (warn band)"]
    assert (row["Calm dates"], row["False alarms"], row["False-alarm share"]) == (4, 2, "50.0%")
    never = shown.set_index("Signal").loc["Homm-Breitung"]
    assert never["First flag"] == "–"  # never flagged: a gap, not None
    assert not _clean(shown)
    # the download is the table itself, keys and all
    assert list(alarms["procedure"]) == ["composite", "hb"]
    assert alarms["first_flag"].iloc[1] is None


def _alert_events() -> pd.DataFrame:
    return pd.DataFrame({
        "kind": ["regime-high-variance", "runup-2y-doubling", "gone-rule"],
        "start": [date(1999, 1, 8), date(1999, 1, 8), date(1999, 3, 5)],
        "attr_severity": ["warning", "info", "info"], "attr_condition": ["on", "on", "on"],
        "attr_previous": [None, None, "off"],
        "attr_title": ["Dot-com basket: high variance", "Dot-com basket: doubled", "x"]})


def test_alert_view_names_rules_and_the_download_keeps_their_ids() -> None:
    rows = tv.alert_rows(_alert_events())
    assert list(rows.columns) == ["date", "rule", "severity", "condition", "previous", "title"]
    assert set(rows["rule"]) == {"regime-high-variance", "runup-2y-doubling", "gone-rule"}
    labels = {"regime-high-variance": "Market in its high-variance (stress) state",
              "runup-2y-doubling": "Price doubled in two years (run-up)"}
    shown = ui.table_view(tv.alert_view(rows, labels))
    assert list(shown.columns) == ["Date", "Rule", "Severity", "Condition", "Before", "Alert"]
    assert list(shown["Rule"]) == ["Market in its high-variance (stress) state",
                                   "Price doubled in two years (run-up)",
                                   "(no longer in the rules file)"]
    assert list(shown["Before"]) == ["–", "–", "off"]
    assert not _clean(shown)


def test_episode_view_names_signals_and_leaves_open_ends_empty() -> None:
    events = pd.DataFrame({
        "kind": ["psy_pointwise", "hb", "composite"],
        "start": [date(1999, 2, 5), date(1999, 6, 18), date(1999, 11, 12)],
        "end": [date(2000, 4, 14), None, None],
        "attr_confirmed": ["1999-02-12", None, None],
        "attr_direction": ["positive", None, None]})
    rows = tv.episode_rows(events)
    shown = ui.table_view(tv.episode_view(rows))
    assert list(shown.columns) == ["Signal", "First alarm", "Reported", "End", "Direction"]
    assert list(shown["Signal"]) == ["PSY, pointwise", "Homm-Breitung"]  # no headline spells
    assert list(shown["Reported"]) == ["1999-02-12", "1999-06-18"]
    assert list(shown["End"]) == ["2000-04-14", "–"]
    assert not _clean(shown)


def test_scan_view_writes_readings_in_their_units_and_keeps_links() -> None:
    table = pd.DataFrame({
        "rank": [1, 2], "symbol": ["NVDA", "^GSPC"], "name": ["NVIDIA", "S&P 500"],
        "cohorts": ["ai", "index"], "universes": ["chips", ""],
        "excess": [0.6786, 0.2238], "ret_2y": [0.7327, 0.3815], "ret_2y_net": [0.3418, np.nan],
        "pos_conf": [0.0, np.nan], "ps_pctile": [0.7028, np.nan], "pe_pctile": [0.3855, np.nan],
        "drawdown": [-0.0881, -0.0160],
        "psy_date": pd.to_datetime(["2026-08-21", "2026-08-21"])})
    view = sv.scan_view(table, NAMES.__getitem__)
    shown = ui.table_view(view, sv.headers(), links=tuple(sv.PAGE_LINKS))
    assert not _clean(shown)
    nvda, gspc = shown.iloc[0], shown.iloc[1]
    assert (nvda["Symbol"], nvda["Cohorts"], gspc["Cohorts"]) == ("NVDA", "AI cycle",
                                                                  "Market indices")
    assert (nvda["BSADF above its critical value"], nvda["Two-year return"]) == ("0.68", "+73%")
    assert nvda["P/E percentile of own history"] == "39%"
    assert (gspc["P/E percentile of own history"], gspc["Universes"]) == ("–", "–")
    assert gspc["PSY as of"] == "2026-08-21"
    assert (gspc["Explosiveness"], gspc["LPPLS"], gspc["Valuation"]) == (
        "/explosiveness?symbol=%5EGSPC", "/lppls?symbol=%5EGSPC", "/valuation?symbol=%5EGSPC")
    # the scan itself (the download) is left as it was
    assert table["ret_2y_net"].isna().iloc[1] and table["cohorts"].iloc[0] == "ai"


def test_parameters_name_signals_and_components(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui, "_events", dict)  # no stored events to name
    _, procs = ui.param_text("track_record", "procedures", ("psy_pointwise", "ps2020", "hb"))
    assert procs == "PSY, pointwise; Phillips-Shi 2020; Homm-Breitung"
    _, comps = ui.param_text("track_record", "headline", ("runup_net", "high_variance"))
    assert comps == "Run-up net of the market, High-variance (stress) state"
    assert ui.param_text("track_record", "regime_keys", ())[1] == "none"
    assert ui.param_text("track_record", "regime_keys", ("^GSPC", "^IXIC"))[1] == "^GSPC, ^IXIC"
