"""Every dashboard page through Streamlit's AppTest on the seeded database
(real prices, filings and reference data, and the real indicators computed on them): the
elements are there, selectors change what is shown, downloads produce files,
and empty databases say which command fills each page."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest

from dashboard.chrome import plain
from dashboard.downloads import read_back
from db.queries import MASK, close_series
from db.session import session_scope
from indicators.analog import runup_start_position
from indicators.vocabulary import component_label, words
from ingest.reference import load_figures
from tests.dashboard.conftest import (
    APP,
    PAGES,
    chart_specs,
    chart_titles,
    page_text,
    values,
)
from tests.dashboard.testdata import PLANTED_WEBHOOK


def sessions_behind() -> int:
    """NYSE sessions from the shared files' last price (2026-08-21) to the last
    session closed now, counted with numpy and the exchange's published holidays."""
    from datetime import UTC, datetime

    import numpy as np

    from bubblewatch.core.calendar import sessions

    last_closed = sessions("XNYS").last_closed(datetime.now(UTC))
    holidays = ["2026-09-07", "2026-11-26", "2026-12-25", "2027-01-01", "2027-01-18",
                "2027-02-15", "2027-03-26", "2027-05-31", "2027-06-18", "2027-07-05",
                "2027-09-06", "2027-11-25", "2027-12-24"]
    return int(np.busday_count("2026-08-22", np.datetime64(last_closed) + 1,
                               holidays=holidays))


def sidebar_table(at) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The sidebar's compact freshness table (source, status, behind)."""
    return next(df.value for df in at.sidebar.dataframe)


def frame_with(at, *columns: str) -> pd.DataFrame:
    """The first dataframe shown that has all ``columns``."""
    for df in at.dataframe:
        v = df.value
        if set(columns) <= set(v.columns):
            return v
    raise AssertionError(f"no dataframe with {columns}; shown: "
                         f"{[list(df.value.columns) for df in at.dataframe]}")


def metric(at, label_start: str) -> str:
    hits = [m.value for m in at.metric if m.label.startswith(label_start)]
    assert hits, f"no metric starting {label_start!r}: {[m.label for m in at.metric]}"
    return hits[0]


def test_overview_headline_components_movers_alerts_freshness(app, dashboard_db, downloads):
    _, facts = dashboard_db
    at = app("overview")
    text = page_text(at)
    ai, peak = round(facts["ai_score"]), round(facts["dotcom_peak_score"])
    assert f"Like for like: AI **:orange[{ai}]** vs dot-com peak **:blue[{peak}]**" in text
    assert metric(at, "AI today (like for like)") == str(ai)
    assert metric(at, "Dot-com peak") == str(peak)
    # the AI-only sub-score and the stress reading sit beside it, never folded in
    assert metric(at, "AI-only sub-score") == f"{facts['ai_only_score']:.0f}"
    assert metric(at, "Stress") == f"{facts['ai_stress']:.0f}"
    # the band and the uncertainty band of both sides
    lo, hi = facts["ai_score_band"]
    assert f"**{facts['ai_band']}**, 5-95% of" in text and f"{lo:.0f}-{hi:.0f}" in text
    assert "Score components" in chart_titles(at)
    for name, why in facts["composite_missing"].items():  # every missing component named
        assert f"{component_label(name)} ({words('composite', why)})" in text
    # the provenance table: every component, with its coverage and as-of date
    prov = frame_with(at, "Component", "Reading", "AI coverage", "AI as of", "Age (days)")
    assert set(prov["Component"]) == {component_label(n) for n in facts["composite_components"]}
    headline = set(prov.loc[prov["Reading"] == "like for like", "Component"])
    assert headline == {component_label(n) for n in facts["composite_headline"]}
    # the gauge carries the dot-com peak as its threshold mark
    gauge = next(s for s in chart_specs(at) if s["data"][0]["type"] == "indicator")
    assert gauge["data"][0]["gauge"]["threshold"]["value"] == pytest.approx(
        facts["dotcom_peak_score"])
    # the score history downloads carry the uncertainty band
    hist = read_back(downloads(at.download_button(key="dl_score_history_csv")), "csv")
    assert {"ai", "ai_p05", "ai_p95", "ai_only", "ai_stress", "dotcom", "dotcom_p95"} <= set(
        hist.columns)
    # active alerts: the open PSY episode, not the composite alert whose state moved on
    assert plain("NVIDIA (NVDA): explosive rise under way since 2026-05-22") in text
    assert "Bubble-risk score 81 / 100" not in text
    # freshness is data age: computed minutes ago on prices that end 2026-08-21, months
    # before today, so stale with the age in trading sessions, as `bubblewatch status` says
    fresh = frame_with(at, "Source", "Status", "Refresh with")
    status = dict(zip(fresh["Source"], fresh["Status"], strict=True))
    behind = dict(zip(fresh["Source"], fresh["Behind"], strict=True))
    assert status["Prices (XNYS)"] == "stale" and status["Indicators"] == "stale"
    assert behind["Prices (XNYS)"] == behind["Indicators"] == f"{sessions_behind()} sessions"
    assert status["Alert delivery"] == "failed"  # the planted failed delivery
    assert all(t == "never" or t.endswith(" UTC") for t in fresh["Last success"])
    sidebar = sidebar_table(at)
    assert sidebar["Source"].tolist()[:2] == ["Prices (XNYS)", "Fundamentals"]
    assert "Data is stale" in text and f"{sessions_behind()} sessions behind" in text
    # the movers window selector changes the chart and the URL
    assert "Top movers (1w)" in chart_titles(at)
    at.button_group(key="w_movers").set_value("1m").run()
    assert "Top movers (1m)" in chart_titles(at) and at.query_params["movers"] == "1m"
    # chart data is one click away
    movers_csv = downloads(at.download_button(key="dl_movers_csv"))
    moved = read_back(movers_csv, "csv")
    assert {"symbol", "1d", "1w", "1m"} <= set(moved.columns)
    # every symbol with prices in the window, and only those (stale files are named instead)
    from db import queries as dq
    from db.session import session_scope

    with session_scope(dashboard_db[0]) as s:
        cov = dq.price_coverage(s)
    last = cov["last_date"].max()
    recent = set(cov.loc[cov["last_date"] >= last - pd.Timedelta(days=30), "symbol"])
    assert set(moved["symbol"]) == recent
    stale = sorted(set(cov["symbol"]) - recent)
    assert stale and f"for: {', '.join(stale)}" in page_text(at)


def test_analog_pair_and_anchor_selectors(app, dashboard_db, downloads):
    _, facts = dashboard_db
    at = app("analog")
    best = facts["best_nvda_csco"]
    assert metric(at, "Today") == f"{best:%Y-%m-%d}"
    assert any(t.startswith("NVDA vs CSCO, aligned at today") for t in chart_titles(at))
    # what followed: the analog indicator's own stored figures (trading-day horizons),
    # so the page agrees with exports and alerts
    stored = facts["fwd_nvda_csco"]
    assert metric(at, "over 252 trading days") == f"{100 * stored['252']:+.0f} %"
    paths = read_back(downloads(at.download_button(key="dl_analog_paths_csv")), "csv")
    zero = paths[paths["t"] == 0].iloc[0]
    assert zero["ai"] == pytest.approx(100) and zero["dotcom"] == pytest.approx(100)
    assert zero["dotcom_date"].startswith(f"{best:%Y-%m-%d}")
    # another anchor: named events, defaulting to the stored run's ChatGPT / Netscape IPO
    at.selectbox(key="w_anchor").set_value("event").run()
    assert at.query_params["anchor"] == "event"
    from ingest.reference import reference_events

    titles = {e["key"]: e["title"] for e in reference_events()}
    want = f"{titles['chatgpt']} ↔ {titles['netscape_ipo']}"  # the events by their titles
    assert any(want in t for t in chart_titles(at)), chart_titles(at)
    # run-up starts: the analog indicator's rule on the same closes
    at.selectbox(key="w_anchor").set_value("runup").run()
    with session_scope(dashboard_db[0]) as s:
        nvda, csco = close_series(s, "NVDA"), close_series(s, "CSCO")
    csco = csco[csco.index <= "2002-12-31"]
    ai_pos, dc_pos = runup_start_position(nvda), runup_start_position(csco)
    assert ai_pos is not None and dc_pos is not None
    want = f"run-up start ({nvda.index[ai_pos]:%Y-%m-%d} / {csco.index[dc_pos]:%Y-%m-%d})"
    assert any(want in t for t in chart_titles(at)), chart_titles(at)
    # the other pair: baskets, with their own best match
    at.selectbox(key="w_pair").set_value("ai_dotcom_basket").run()
    assert at.query_params["pair"] == "ai_dotcom_basket"
    assert metric(at, "Today") == f"{facts['best_ai_dotcom_basket']:%Y-%m-%d}"


def test_explosiveness_symbol_and_critical_value(app, dashboard_db):
    _, facts = dashboard_db
    at = app("explosiveness", symbol="CSCO")
    assert at.selectbox(key="w_symbol").value == "CSCO"  # view state read from the URL
    assert metric(at, "Episodes") == str(facts["psy_episodes_CSCO"])
    assert any(m.label == f"BSADF on {facts['psy_last_CSCO']:%Y-%m-%d}" for m in at.metric)
    spec = chart_specs(at)[0]
    assert len(spec["layout"].get("shapes", [])) == 2 * facts["psy_episodes_CSCO"]  # both rows
    assert {t["name"] for t in spec["data"]} >= {"BSADF", "95 % critical value"}
    at.selectbox(key="w_symbol").set_value("NVDA").run()
    assert metric(at, "Episodes") == str(facts["psy_episodes_NVDA"])
    at.button_group(key="w_cv").set_value("cv99").run()
    assert any(m.label == "99 % critical value" for m in at.metric)
    assert "99 % critical value" in {t["name"] for t in chart_specs(at)[0]["data"]}
    episodes = frame_with(at, "Direction", "Start", "Calendar days",
                          "Observations above the critical value")
    assert len(episodes) == facts["psy_episodes_NVDA"]


def test_explosiveness_says_why_cisco_has_no_episode(app, dashboard_db):
    """CSCO's whole-sample GSADF does not reject, so exuber's rule dates no episode:
    the page says so, with the figures of the stored test, how often BSADF was
    above its critical value in the dates shown, and the options that would date
    episodes."""
    from db import repo
    from indicators import registry

    url, facts = dashboard_db
    with session_scope(url) as s:
        (run,) = repo.latest_runs(s, "psy", "CSCO")
        wide = repo.indicator_wide(s, "psy", "CSCO")
    test = registry.get("psy").read_meta(run.meta).test
    assert facts["psy_episodes_CSCO"] == 0 and not test.rejected and test.require_rejection
    at = app("explosiveness", symbol="CSCO")
    at.slider(key="w_window").set_value((date(1998, 1, 1), date(2000, 12, 29))).run()
    text = page_text(at)
    both = wide.loc["1998-01-01":"2000-12-29", ["bsadf", "cv95"]].dropna()
    above = int((both["bsadf"] > both["cv95"]).sum())
    assert above > 0  # explosive weeks there were, yet no episode
    assert "because the whole-sample test does not reject" in text
    assert f"is {test.gsadf:.2f}, below its 95% critical value {test.gsadf_cv_at(0.95):.2f}" \
        in text
    assert f"in {above} of {len(both)} weeks" in text
    assert "--param require_rejection=false" in text and "--param start=1995-01-01" in text


def test_lppls_confidence_and_tc(app, dashboard_db, downloads):
    _, facts = dashboard_db
    at = app("lppls")
    titles = chart_titles(at)
    assert any("LPPLS confidence indicator" in t for t in titles)
    assert metric(at, "Positive-bubble confidence").endswith("%")
    tc_title = "NVDA: fitted critical time tc of the qualified fits"
    if facts["lppls_tc_dates"] == 0:
        # no qualified fit in the stored window: no tc chart, and the page says why
        assert tc_title not in titles
        assert "No fit of NVDA qualified" in page_text(at)
        return
    tc_spec = chart_specs(at)[titles.index(tc_title)]
    median = next(t for t in tc_spec["data"] if t.get("name") == "positive bubble: median")
    assert len(values(median["y"])) == facts["lppls_tc_dates"]
    tc_csv = read_back(downloads(at.download_button(key="dl_lppls_tc_csv")), "csv")
    assert {"date", "pos_tc_median_days", "pos_tc_q10_days", "pos_tc_q90_days"} <= set(
        tc_csv.columns)


def test_capex_and_revenue_gap(app, dashboard_db):
    _, facts = dashboard_db
    at = app("capex")
    text = page_text(at)
    assert metric(at, "Hyperscaler capex") == f"{facts['hyperscaler_capex_ttm_bn']:,.0f} USD bn"
    # the total is Alphabet's alone in the test data, and says so wherever it is shown
    label = facts["hyperscaler_coverage_label"]
    assert label == "Alphabet only: 1 of 5 hyperscalers"
    assert f"Coverage: {label}." in text
    titles = chart_titles(at)
    flat = [t.replace("<br>", " ") for t in titles]
    assert f"Hyperscaler capex: by quarter and trailing four quarters <sup>{label}</sup>" \
        in flat
    assert "Build-out spending then and now" in titles
    then_now = chart_specs(at)[titles.index("Build-out spending then and now")]
    telecom = next(t for t in then_now["data"]
                   if t["type"] == "bar" and t["name"] == "US carriers, equipment")
    assert values(telecom["y"]).max() == pytest.approx(facts["telecom_us_equipment_peak_bn"])
    assert any(a.get("text", "").endswith(label) for a in then_now["layout"]["annotations"])
    assert "a partial total set against a sector total, not like with like" in text
    total = next(t for t in then_now["data"] if t["name"].startswith("Latest fiscal years"))
    assert values(total["y"])[0] == pytest.approx(facts["hyperscaler_reference_total_bn"])
    # revenue gap: reported AI revenue with its coverage, and Sequoia's inputs
    assert "Required vs reported AI revenue (annualised)" in titles
    assert f"Reported AI revenue: {facts['ai_revenue_label']}." in text
    assert "Total data-centre cost per dollar of GPUs: 2.0" in text and "Sequoia's inputs" in text
    shown = frame_with(at, "Published figure", "Value", "Source")
    builtin = {f.key: f.label for f in load_figures()}
    assert {builtin["sequoia_dc_run_rate_2024"],
            builtin["sequoia_required_revenue_2024"]} <= set(shown["Published figure"])


def test_valuation_and_vendor_financing(app, dashboard_db):
    _, facts = dashboard_db
    at = app("valuation")
    assert metric(at, "Trailing P/E").endswith("×")
    spec = chart_specs(at)[0]
    assert spec["layout"]["yaxis"]["type"] == "log"
    peak_pe = facts["csco_peak_pe"]
    peak_line = next(t for t in spec["data"]
                     if t["name"] == f"Cisco P/E at 2000 peak ({peak_pe:.0f}×)")
    assert set(values(peak_line["y"])) == {peak_pe}
    labels = [m.label for m in at.metric]
    i = labels.index("0 % (today)")
    assert labels[i:i + 4] == ["0 % (today)", "25 %", "50 %", "75 %"]
    pe = [float(m.value.rstrip("×")) for m in at.metric[i:i + 4]]
    # shown rounded to whole multiples: allow the rounding of today's P/E
    assert pe[1:] == pytest.approx([pe[0] / 0.75, pe[0] / 0.5, pe[0] / 0.25], abs=0.5 / 0.25 + 0.5)
    assert any(t.startswith("NVDA: DSO") for t in chart_titles(at))
    dotcom = frame_with(at, "Who", "Figure", "Source")
    assert {"CSCO", "Lucent"} & set(dotcom["Who"])
    assert dotcom["Source"].str.startswith("http").all()


def test_shocks_page_events_cars_recovery_and_exposure(app, dashboard_db, downloads):
    from db import repo

    url, _ = dashboard_db
    with session_scope(url) as s:
        nvda = repo.indicator_wide(s, "shocks", "NVDA")
        ai = repo.indicator_wide(s, "shocks", "ai")
    at = app("shocks", subject="NVDA", event="deepseek_shock")
    titles = chart_titles(at)
    assert "NVDA: CAR [0] by event, 95 % interval" in titles
    assert "DeepSeek shock (2025-01-27): CAR [0]" in titles
    assert "NVDA: sessions to recover the pre-event close" in titles
    assert "Revenue exposure: China and data-centre shares (cited figures)" in titles
    assert metric(at, "Latest event") == f"{nvda.index.max():%Y-%m-%d}"
    # the event's bars are the stored CARs, cohorts first, each key by its name
    bars = chart_specs(at)[titles.index("DeepSeek shock (2025-01-27): CAR [0]")]["data"][0]
    names = list(bars["y"])
    assert names[:2] == ["AI cycle", "Dot-com cycle"] and "NVDA" in names
    assert "AI basket" in names and "ai_basket" not in names and "^GSPC" not in names
    day0 = pd.Timestamp("2025-01-27")
    assert values(bars["x"])[names.index("NVDA")] == pytest.approx(100 * nvda.loc[day0, "car_0"])
    # the timeline's data: one row per AI-cycle day 0 stored for NVDA, with its interval
    timeline = read_back(downloads(at.download_button(key="dl_shocks_timeline_csv")), "csv")
    shown = pd.to_datetime(timeline["day0"])
    assert set(shown) <= set(nvda.index) and day0 in set(shown)
    hit = timeline[shown == day0].iloc[0]
    assert (hit["car"], hit["ci_lo"], hit["ci_hi"]) == pytest.approx(
        tuple(nvda.loc[day0, ["car_0", "ci_lo_0", "ci_hi_0"]]))
    # the CAR table, every window, with the cohort's BMP and KP statistics
    cars = read_back(downloads(at.download_button(key="dl_car_table_csv")), "csv")
    assert set(cars["window"]) == {"[0]", "[-1,+1]", "[0,+5]", "[0,+20]"}
    row = cars[(cars["key"] == "ai") & (cars["window"] == "[0,+5]")].iloc[0]
    assert (row["bmp_t"], row["kp_t"]) == pytest.approx(
        tuple(ai.loc[day0, ["bmp_t_0_5", "kp_t_0_5"]]))
    table = frame_with(at, "Symbol, basket or cohort", "CAR %", "95 % low", "KP t")
    assert table.loc[table["Symbol, basket or cohort"] == "NVDA", "CAR %"].iloc[0] == \
        pytest.approx(100 * nvda.loc[day0, "car_0"], abs=0.01)
    # exposure: NVIDIA's and AMD's cited shares, the charges linked to the H20 licence
    exposure = read_back(downloads(at.download_button(key="dl_shocks_exposure_csv")), "csv")
    assert {"NVDA", "AMD"} <= set(exposure["symbol"]) and (exposure["unit"] == "%").any()
    charges = frame_with(at, "Who", "What", "After event", "Figure")
    h20 = "H20 export licence requirement (2025-04-15)"  # the event's title and news date
    assert set(charges.loc[charges["After event"] == h20, "Who"]) == {"NVDA", "AMD"}
    # the download keeps the machine keys analysts join on
    charges_csv = read_back(downloads(at.download_button(key="dl_charges_csv")), "csv")
    assert set(charges_csv.loc[charges_csv["event"] == "h20_licence", "symbol"]) == {"NVDA", "AMD"}
    assert "nvda_h20_charge_guidance_2025_04" in set(charges_csv["key"])
    # another window and cycle: the selectors and the URL follow
    at.button_group(key="w_window").set_value("[0,+5]").run()
    at.button_group(key="w_era").set_value("dotcom").run()
    assert at.query_params["window"] == "[0,+5]" and at.query_params["era"] == "dotcom"
    assert "NVDA: CAR [0,+5] by event, 95 % interval" in chart_titles(at)
    timeline = read_back(downloads(at.download_button(key="dl_shocks_timeline_csv")), "csv")
    assert (pd.to_datetime(timeline["day0"]) < "2002-01-01").all() and len(timeline) >= 5


def test_alerts_page_masks_secrets(app):
    at = app("alerts")
    assert metric(at, "Active alerts") == "1"
    assert metric(at, "Failed") == "1"
    deliveries = frame_with(at, "Status", "Subscriber", "Target")
    shown = deliveries.astype(str).to_csv()
    assert "plantedSecretXYZ" not in shown and MASK in shown
    assert PLANTED_WEBHOOK not in page_text(at)
    # Slack targets are the name of an environment variable, which may be shown
    assert "DESK_SLACK_WEBHOOK" in set(deliveries["Target"])
    at.multiselect(key="w_delivery_status").set_value(["sent"]).run()
    assert set(frame_with(at, "Status", "Subscriber", "Target")["Status"]) == {"sent"}


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_export_downloads_selected_series(app, dashboard_db, downloads, fmt):
    url, _ = dashboard_db
    at = app("export", dataset="psy", key="CSCO", format=fmt)
    at.date_input(key="w_range").set_value((date(1999, 1, 1), date(2000, 12, 31))).run()
    at.multiselect(key="w_fields").set_value(["bsadf", "cv95"]).run()
    button = at.download_button(key="export_download")
    assert button.label.endswith(fmt.upper())
    assert f"psy-csco-1999-01-01-2000-12-31.{fmt}" in page_text(at)
    got = read_back(downloads(button), fmt)
    assert list(got.columns) == ["date", "bsadf", "cv95"]
    got_dates = pd.to_datetime(got["date"])
    assert got_dates.min() >= pd.Timestamp("1999-01-01")
    from db import repo
    from db.session import session_scope

    with session_scope(url) as s:
        stored = repo.indicator_wide(s, "psy", "CSCO").loc["1999":"2000", ["bsadf", "cv95"]]
    assert got_dates.max() <= pd.Timestamp("2000-12-31") and len(got) == len(stored) > 100
    assert got["bsadf"].to_numpy() == pytest.approx(stored["bsadf"].to_numpy())
    if fmt == "xlsx":
        about = pd.read_excel(io.BytesIO(downloads(button)), sheet_name="about")
        assert dict(zip(about["field"], about["value"], strict=True))["indicator"] == "psy"


def test_every_page_names_the_command_on_an_empty_database(use_db, empty_db_url):
    from streamlit.testing.v1 import AppTest

    use_db(empty_db_url)
    expected = {
        "overview": "bubblewatch compute composite",
        "analog": "bubblewatch ingest",
        "explosiveness": "bubblewatch compute psy",
        "lppls": "bubblewatch compute lppls",
        "capex": "bubblewatch compute capex",
        "valuation": "bubblewatch compute valuation",
        "shocks": "bubblewatch compute shocks",
        "alerts": "bubblewatch alerts check",
        "export": "bubblewatch compute",
    }
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    for page, command in expected.items():
        at.switch_page(PAGES[page]).run()
        assert not at.exception, (page, [e.value for e in at.exception])
        infos = " ".join(i.value for i in at.info)
        assert f"`{command}" in infos, (page, infos)
    assert "No prices in the database" in " ".join(w.value for w in at.warning)


def test_uninitialised_database_says_run_init(use_db, tmp_path):
    from streamlit.testing.v1 import AppTest

    use_db(f"sqlite:///{tmp_path / 'never-initialised.sqlite'}")
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert "`bubblewatch init`" in " ".join(i.value for i in at.info)
    assert not at.get("plotly_chart")


def _overview(url: str, use_db):  # type: ignore[no-untyped-def]
    from streamlit.testing.v1 import AppTest

    use_db(url)
    at = AppTest.from_file(str(APP), default_timeout=90).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("db", ["empty", "computed"])
def test_alerts_never_evaluated_are_not_an_all_clear(use_db, empty_db_url, computed_db_url, db):
    """No alert state: the Overview says the alerts were never evaluated, the
    freshness tables say ``never``; nothing green about alerts."""
    at = _overview(empty_db_url if db == "empty" else computed_db_url, use_db)
    infos = " ".join(i.value for i in at.info)
    assert "**Alerts never evaluated.**" in infos and "not an all-clear" in infos
    assert not any("No active alerts" in s.value for s in at.success)
    fresh = frame_with(at, "Source", "Status", "Refresh with").set_index("Source")
    assert fresh.loc["Alert evaluation", "Status"] == "never"
    assert fresh.loc["Alert delivery", "Status"] == "never"
    assert fresh.loc["Indicators", "Status"] == ("missing" if db == "empty" else "stale")
    sidebar = sidebar_table(at).set_index("Source")
    assert sidebar.loc["Alert evaluation", "Status"] == "never"


def test_no_active_alert_on_stale_data_is_not_green(use_db, dashboard_db, tmp_path):
    """Alerts evaluated, none holds now, but on data months old: a warning
    naming the evaluation's date, not a green all-clear."""
    import sqlite3

    src = dashboard_db[0].removeprefix("sqlite:///")
    dst = tmp_path / "no-active.sqlite"
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
        b.execute("UPDATE alert_state SET condition = 'none' WHERE rule_id = 'nvda_psy_start'")
    at = _overview(f"sqlite:///{dst}", use_db)
    warnings = " ".join(w.value for w in at.warning)
    assert "No active alerts at the last evaluation" in warnings
    assert "on data to 2026-08-21" in warnings and "stale" in warnings
    assert not any("No active alerts" in s.value for s in at.success)


def test_status_and_dashboard_agree_on_freshness(app, dashboard_db, monkeypatch):
    """`bubblewatch status` and the Overview's freshness table are one
    computation: same sources, statuses and ages on the shared data."""
    import json

    from typer.testing import CliRunner

    from bubblewatch.app.cli import app as cli

    at = app("overview")
    shown = frame_with(at, "Source", "Status", "Refresh with")
    result = CliRunner().invoke(cli, ["status", "--json"])  # same settings as the app
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)["freshness"]
    as_cli = [(r["source"] if r["scope"] == "all" else f"{r['source']} ({r['scope']})",
               r["status"], "–" if r["behind"] is None else r["behind"]) for r in printed]
    as_app = [(s, st, b if b == "–" else int(b.split()[0]))
              for s, st, b in zip(shown["Source"], shown["Status"], shown["Behind"],
                                  strict=True)]
    assert as_cli == as_app
    prices = next(r for r in printed if r["source"] == "Prices")
    assert prices["status"] == "stale" and prices["behind"] == sessions_behind()
    assert prices["unit"] == "sessions" and prices["newest"] == "2026-08-21"
