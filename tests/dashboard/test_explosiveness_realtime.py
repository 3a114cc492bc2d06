"""The Explosiveness page's real-time part through Streamlit's AppTest on the
computed test database: the real-time reading beside the whole-sample one
with the rule chosen and every alarm marked, the sentence saying why they
differ (from the stored typed metadata), the monitors with their alarm
dates, the adoption-robust reading and the cohort verdicts. Expected values
are read back from the stored results, never computed here."""

from __future__ import annotations

from typing import Any

import pytest

from db import repo
from db.session import session_scope
from indicators import registry
from tests.dashboard.conftest import chart_specs, chart_titles, page_text, values


def _stored(url: str, name: str, key: str) -> tuple[Any, Any]:
    with session_scope(url) as s:
        wide = repo.indicator_wide(s, name, key)
        (run,) = repo.latest_runs(s, name, key)
        meta = registry.get(name).read_meta(run.meta)
    return wide, meta


def _metric(at: Any, start: str) -> str:
    hits = [m.value for m in at.metric if m.label.startswith(start)]
    assert hits, [m.label for m in at.metric]
    return hits[0]


def _trace(at: Any, title_part: str, name: str) -> dict:
    titles = chart_titles(at)
    spec = chart_specs(at)[next(i for i, t in enumerate(titles) if title_part in t)]
    return next(t for t in spec["data"] if t.get("name") == name)


def test_real_time_reading_beside_the_whole_sample_one(app, dashboard_db) -> None:
    url, _ = dashboard_db
    rt, rt_meta = _stored(url, "psy_rt", "CSCO")
    _, psy_meta = _stored(url, "psy", "CSCO")
    at = app("explosiveness", symbol="CSCO")
    text = page_text(at)
    assert "Real time: what the test said on each date" in text
    # the stored rule is the one shown first, and its alarms are counted and marked
    rule = rt_meta.rule
    n = int(rt[f"alarm_{rule}"].sum())
    assert _metric(at, "Readings with an alarm (SADF rule)") == f"{n} of {len(rt)}"
    marks = _trace(at, "real-time BSADF (SADF rule)", "alarm")
    assert len(values(marks["x"])) == n
    # the sentence comes from the stored whole-sample test
    test = psy_meta.test
    assert f"GSADF {test.gsadf:.2f} against its 95% critical value" in text
    assert ("does not reject" in text) == (not test.rejected)
    # another rule: its own alarms and critical value
    at.button_group(key="w_rule").set_value("pointwise").run()
    assert at.query_params["rule"] == "pointwise"
    n_pw = int(rt["alarm_pointwise"].sum())
    assert _metric(at, "Readings with an alarm (pointwise)") == f"{n_pw} of {len(rt)}"
    assert len(values(_trace(at, "real-time BSADF (pointwise)", "alarm")["x"])) == n_pw
    if not test.rejected and n_pw:
        assert "The two answer different questions" in page_text(at)


def test_monitors_table_and_alarm_marks(app, dashboard_db) -> None:
    url, _ = dashboard_db
    at = app("explosiveness", symbol="NVDA")
    table = next(df.value for df in at.dataframe if "monitor" in df.value.columns)
    assert list(table["monitor"]) == ["Phillips-Shi 2020", "Homm-Breitung CUSUM",
                                      "Astill et al. CUSUM", "Breitung-Diegel wCUSUM"]
    for name, label in (("monitor_hb", "Homm-Breitung CUSUM"),
                        ("monitor_bd", "Breitung-Diegel wCUSUM")):
        wide, meta = _stored(url, name, "NVDA")
        row = table[table["monitor"] == label].iloc[0]
        assert row["readings with alarm"] == int(wide["alarm"].sum())
        assert row["alarm dates (latest 5)"] == (
            ", ".join(d.isoformat() for d in meta.alarm_dates[-5:]) or "none")
        assert "5.0%" in row["false alarms"]
        lane = _trace(at, "alarms of the real-time monitors", f"{label}: alarm date")
        assert len(values(lane["x"])) == int(wide["first_in_window"].sum())


def test_adoption_robust_reading_and_cohorts(app, dashboard_db) -> None:
    url, _ = dashboard_db
    gpt, _ = _stored(url, "psy_gpt", "NVDA")
    at = app("explosiveness", symbol="NVDA")
    assert _metric(at, "Readings with an alarm, raw price") == \
        f"{int(gpt['raw_alarm'].sum())} of {len(gpt)}"
    assert _metric(at, "Readings with an alarm, net of adoption") == \
        f"{int(gpt['gpt_alarm'].sum())} of {len(gpt)}"
    assert any("net of adoption" in t for t in chart_titles(at))
    text = page_text(at)
    for cohort in ("ai", "dotcom"):
        _, meta = _stored(url, "cohort_psy", cohort)
        verdict = "Explosive together" if meta.explosive_together else "Not explosive together"
        assert f"**{verdict}**: {meta.reason}." in text
    assert "weak evidence of a common bubble" in text


@pytest.mark.parametrize("basket", ["ai_basket"])
def test_a_basket_is_read_in_real_time_only(app, basket: str) -> None:
    at = app("explosiveness", symbol=basket)
    text = page_text(at)
    assert f"No whole-sample PSY test of {basket} is stored" in text
    assert any("real-time BSADF" in t for t in chart_titles(at))
    assert not at.exception


def test_lppls_page_shows_the_stored_trust(app, dashboard_db) -> None:
    url, _ = dashboard_db
    conf, meta = _stored(url, "lppls", "NVDA")
    rows = conf.dropna(subset=["pos_trust"])
    assert len(rows) >= 1 and meta.trust_on == "latest" and meta.trust_filter.resolved_tc
    at = app("lppls")
    last = rows.index[-1]
    assert _metric(at, f"Positive-bubble Trust ({last:%Y-%m-%d})") == \
        f"{100 * rows['pos_trust'].iloc[-1]:.0f} %"
    assert _metric(at, "Negative-bubble Trust") == f"{100 * rows['neg_trust'].iloc[-1]:.0f} %"
    marks = _trace(at, "LPPLS confidence indicator", "positive-bubble Trust")
    assert len(values(marks["x"])) == len(rows)
