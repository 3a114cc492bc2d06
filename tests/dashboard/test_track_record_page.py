"""The Track record page (AppTest on the computed database, whose backtest is
real): the reading against what followed with every alarm, its data one click
away and equal to the stored track record, the first warnings and false
alarms, the selector, and the empty state naming the command."""

from __future__ import annotations

import numpy as np
import pandas as pd

from alerts.service import load_rules
from bubblewatch.core.settings import get_settings
from dashboard.downloads import read_back
from tests.dashboard.conftest import APP, PAGES, chart_specs, chart_titles, page_text


def _frame(at, *columns: str) -> pd.DataFrame:
    for df in at.dataframe:
        if set(columns) <= set(df.value.columns):
            return df.value
    raise AssertionError(f"no table with {columns}: {[list(d.value.columns) for d in at.dataframe]}")


def test_track_record_page_shows_readings_what_followed_and_alarms(app, dashboard_db,
                                                                   downloads) -> None:
    url, _ = dashboard_db
    at = app("track_record")  # the dot-com cohort first
    text = page_text(at)
    assert "Track record" in text and "calm" in text
    assert any(t.startswith("Dot-com cycle: what bubblewatch said then")
               for t in chart_titles(at))
    spec = next(s for s in chart_specs(at)
                if s["layout"]["title"]["text"].startswith("Dot-com cycle"))
    names = {t.get("name") for t in spec["data"]}
    assert {"Headline, as read then", "Largest fall, next 24 months"} <= names
    # every chart's data one click away, equal to what is stored
    got = read_back(downloads(at.download_button(key="dl_track_csv")), "csv")
    import indicators

    stored = indicators.load("track_record", "dotcom", database_url=url).set_index("date")
    assert {"date", "score", "score_p05", "score_p95", "fwd_mdd_12m", "fwd_mdd_24m", "calm",
            "flag_composite", "flag_psy_pointwise", "flag_hb"} <= set(got.columns)
    got = got.set_index(pd.to_datetime(got["date"]))
    assert len(got) == len(stored)
    np.testing.assert_allclose(got["score"].to_numpy(), stored["score"].to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(got["fwd_mdd_24m"].to_numpy(), stored["fwd_mdd_24m"].to_numpy(),
                               rtol=1e-9)
    # the Nasdaq peak is judged, with a first warning (or "no warning") per signal
    leads = _frame(at, "Peak", "Peak from")
    ref = leads[leads["Peak from"] == "reference peak"]
    assert ref["Peak"].astype(str).tolist() == ["2000-03-10"]
    assert {"Headline (warn band)", "PSY, pointwise", "Phillips-Shi 2020", "AHLTZ"} <= set(
        leads.columns)
    alarms = _frame(at, "Signal", "Calm dates", "False alarms", "False-alarm share")
    assert len(alarms) == 7 and (alarms["Calm dates"] > 0).all()
    assert "Headline (warn band)" in set(alarms["Signal"])
    # the downloads keep the machine keys analysts join on
    got_leads = read_back(downloads(at.download_button(key="dl_leads_csv")), "csv")
    got_alarms = read_back(downloads(at.download_button(key="dl_alarms_csv")), "csv")
    assert not got_leads.empty and {"procedure", "first_warning"} <= set(got_leads.columns)
    assert {"composite", "psy_pointwise"} <= set(got_alarms["procedure"])
    assert (got_alarms["calm_dates"] > 0).all()
    # another key through the selector (kept in the URL): the AI cohort and its alerts
    at.selectbox(key="w_key").set_value("ai").run()
    assert not at.exception
    assert at.query_params["key"] == ["ai"] or at.query_params["key"] == "ai"
    assert any(t.startswith("AI cycle: what bubblewatch said then") for t in chart_titles(at))
    alerts = _frame(at, "Date", "Rule", "Severity", "Alert")
    book = load_rules(get_settings())  # the rules the backtest replayed
    composite_ai = {r.label for r in book.rules if r.id.startswith("composite-ai")}
    assert len(alerts) > 0 and alerts["Rule"].isin(composite_ai).any()
    got_alerts = read_back(downloads(at.download_button(key="dl_alerts_csv")), "csv")
    assert len(got_alerts) == len(alerts) and got_alerts["rule"].str.startswith(
        "composite-ai").any()  # the download keeps the rule ids
    assert "Alerts that would have fired" in page_text(at)


def test_track_record_page_names_the_command_on_an_empty_database(use_db,
                                                                   empty_db_url) -> None:
    from streamlit.testing.v1 import AppTest

    use_db(empty_db_url)
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    at.switch_page(PAGES["track_record"]).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "`bubblewatch backtest`" in " ".join(i.value for i in at.info)
