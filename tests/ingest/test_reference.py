"""The built-in reference table: well-formed, sourced, internally consistent,
validated on load (errors name the file, the row and the field), and merged
with the user's own events."""

from __future__ import annotations

import itertools
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from bubblewatch.core.errors import ConfigError, IngestError
from bubblewatch.core.settings import EVENT_CATEGORIES, EVENT_CATEGORY_LABELS, EventEntry
from db.models import ReferenceEvent, ReferenceFigure
from indicators.vocabulary import category_label, raw_keys
from ingest.reference import (
    EVENTS_FILE,
    FIGURES_FILE,
    SOURCE_TAGS,
    UNITS,
    all_events,
    load_events,
    load_figures,
    reference_frames,
    reference_rows,
)

FIGURES, EVENTS = reference_rows()
BY_KEY = {r["key"]: r for r in FIGURES}


def v(key: str) -> float:
    return BY_KEY[key]["value"]


def test_keys_unique_and_columns_match_the_tables() -> None:
    assert len(BY_KEY) == len(FIGURES)
    assert len({e["key"] for e in EVENTS}) == len(EVENTS)
    fig_cols = {c.name for c in ReferenceFigure.__table__.columns} - {"id"}
    ev_cols = {c.name for c in ReferenceEvent.__table__.columns} - {"id"}
    assert all(set(r) == fig_cols for r in FIGURES)
    assert all(set(e) == ev_cols for e in EVENTS)
    assert all(len(r["key"]) <= 96 and len(r["source_tag"]) <= 8 for r in FIGURES)


def test_every_figure_is_sourced_and_dated() -> None:
    for r in FIGURES:
        assert r["source_tag"] in SOURCE_TAGS, r["key"]
        assert r["source"].strip() and r["label"].strip(), r["key"]
        if r["source_tag"] != "C":
            assert "http" in r["source"] or "GitHub" in r["source"], r["key"]
        assert r["period_start"] is not None and r["period_start"] <= r["period_end"], r["key"]


def test_computed_rows_name_existing_inputs() -> None:
    for r in FIGURES:
        if r["source_tag"] != "C" or ":" not in r["source"]:
            continue
        refs = re.findall(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b", r["source"].split(":", 1)[1])
        assert refs, r["key"]
        missing = [k for k in refs if k not in BY_KEY]
        assert not missing, (r["key"], missing)


def test_arithmetic_identities() -> None:
    # Nasdaq: 5,048.62 -> 1,114.11 is a 77.93% fall (FACTS.md §1)
    assert round(v("ixic_drawdown_close"), 2) == -77.93
    assert round(v("ixic_drawdown_intraday"), 2) == -78.40
    assert v("ixic_drawdown_close") == pytest.approx(
        100 * (v("ixic_close_trough_2002") / v("ixic_close_peak_2000") - 1))
    assert round(v("csco_drawdown_close_to_intraday_low"), 1) == -89.9
    # Cisco's peak market value from the computed rows brackets the reported >550bn
    assert v("csco_market_cap_peak_low") < 560_000 < v("csco_market_cap_peak_high")
    assert v("csco_market_cap_peak_low") > v("csco_market_cap_peak_reported")
    assert v("csco_pe_hindsight_fy2000") > 200  # "over 200x annual profit", in hindsight
    # NVIDIA quarters sum to the fiscal years (FACTS.md §11 check row)
    for fy, quarters in {2024: "fy24", 2025: "fy25", 2026: "fy26"}.items():
        total = sum(v(f"nvda_revenue_{quarters}q{i}") for i in range(1, 5))
        assert total == v(f"nvda_revenue_fy{fy}")
    dc26 = sum(v(f"nvda_dc_revenue_fy26q{i}") for i in range(1, 5))
    assert dc26 == pytest.approx(v("nvda_dc_revenue_fy2026"))
    dc25 = sum(v(f"nvda_dc_revenue_fy25q{i}") for i in range(1, 5))
    assert dc25 == pytest.approx(v("nvda_dc_revenue_fy2025"), rel=2e-3)  # rounded quarters
    assert sum(v(f"nvda_dc_revenue_fy21q{i}") for i in range(1, 5)) == v("nvda_dc_revenue_fy2021")
    # quarterly hyperscaler capex sums to the annual 10-K figure
    for sym, years in {"googl": (2023, 2024, 2025), "amzn": (2024,)}.items():
        for y in years:
            assert sum(v(f"{sym}_capex_{y}q{i}") for i in range(1, 5)) == v(f"{sym}_capex_{y}")
    # Sequoia: 150 x 2 x 2 = 600; 600 - 500 = 100
    assert v("sequoia_required_revenue_2024") == 4 * v("sequoia_dc_run_rate_2024")
    assert v("sequoia_implied_ai_revenue_2024") == (
        v("sequoia_required_revenue_2024") - v("sequoia_gap_2024"))
    assert round(v("nvda_deepseek_change"), 2) == -16.97
    assert v("jdsu_net_loss_fy2001_incl_addon") == (
        v("jdsu_net_loss_fy2001") - v("jdsu_goodwill_addon_2001_09"))


def test_cisco_fiscal_years_and_headline_figures() -> None:
    assert v("csco_revenue_fy2000") == 18928 and v("csco_net_income_fy2000") == 2668
    assert v("csco_revenue_fy2001") == 22293 and v("csco_net_income_fy2001") == -1014
    assert v("csco_inventory_charge_fy2001") == 2249
    fy = {r["key"]: r for r in FIGURES if r["entity"] == "CSCO" and r["metric"] == "revenue"}
    assert len(fy) == 8  # FY1997-FY2004
    for r in fy.values():
        assert r["period_end"].weekday() == 5  # last Saturday of July
        assert r["period_end"].month == 7 and r["period_end"].day >= 25
        assert (r["period_end"] - r["period_start"]).days + 1 in (364, 371)  # 52 or 53 weeks
    ends = sorted((r["period_start"], r["period_end"]) for r in fy.values())
    assert all((b[0] - a[1]).days == 1 for a, b in itertools.pairwise(ends))  # contiguous years
    assert BY_KEY["csco_close_peak_2000"]["period_end"] == date(2000, 3, 27)


def test_unverified_items_are_not_in_the_table() -> None:
    """FACTS.md §18: Cisco inventory, receivables and capex FY1997-2004 are
    unverified and must not appear."""
    banned = {("CSCO", "inventory"), ("CSCO", "receivables"), ("CSCO", "capex")}
    assert not [r["key"] for r in FIGURES if (r["entity"], r["metric"]) in banned]
    assert not [r["key"] for r in FIGURES if "UNVERIFIED" in r["label"].upper()]


def test_events_cover_both_eras() -> None:
    dates = {e["key"]: e["date"] for e in EVENTS}
    assert dates["netscape_ipo"] == date(1995, 8, 9)
    assert dates["irrational_exuberance"] == date(1996, 12, 5)
    assert dates["nasdaq_peak"] == date(2000, 3, 10)
    assert dates["cisco_writedown"] == date(2001, 4, 16)
    assert dates["chatgpt"] == date(2022, 11, 30)
    assert dates["deepseek_shock"] == date(2025, 1, 27)
    assert dates["coreweave_ipo"] == date(2025, 3, 28)
    assert {e["era"] for e in EVENTS} == {"dotcom", "ai"}
    assert all(e["source"].startswith("http") for e in EVENTS)


def test_frames_round_trip() -> None:
    figures, events = reference_frames()
    assert len(figures) == len(FIGURES) and len(events) == len(EVENTS)
    assert figures["key"].is_unique


def test_price_figures_agree_with_the_shared_price_files() -> None:
    """Cited closes against the independent Yahoo-derived files in ../shared/data."""
    from tests.conftest import load_shared_prices

    ixic, csco, nvda = (load_shared_prices(s)["close"] for s in ("^IXIC", "CSCO", "NVDA"))
    for key, series in (("ixic_close_peak_2000", ixic), ("ixic_close_trough_2002", ixic),
                        ("csco_close_peak_2000", csco), ("nvda_close_2025_01_27", nvda),
                        ("nvda_close_2025_01_24", nvda), ("nvda_close_record_2025_06_25", nvda)):
        day = BY_KEY[key]["period_end"]
        assert series.loc[str(day)] == pytest.approx(v(key), abs=0.01), key
    assert ixic.loc["2000-03-10"] == ixic.loc["1999-01-01":"2003-12-31"].max()


# --------------------------------------------------------------------------- exposure figures
def test_computed_shares_agree_with_the_reported_shares() -> None:
    """The China shares computed from revenue rows against the percentages the
    sources report beside them (15% in Q3 FY2025, 5% in Q3 FY2026), and the
    data-centre shares against a recomputation from the revenue rows."""
    assert round(v("nvda_china_revenue_share_fy25q3")) == 15
    assert round(v("nvda_china_revenue_share_fy26q3")) == 5
    assert round(v("nvda_china_revenue_share_fy2022")) == 26  # "around 26% of the business"
    for q in ("fy24q1", "fy25q4", "fy26q4"):
        assert v(f"nvda_dc_revenue_share_{q}") == pytest.approx(
            100 * v(f"nvda_dc_revenue_{q}") / v(f"nvda_revenue_{q}"))
    shares = [v(f"nvda_dc_revenue_share_fy{y}") for y in range(2022, 2027)]
    assert shares == sorted(shares) and 85 < shares[-1] < 95
    # the H20 charge: 5.5bn guided on 2025-04-15, 4.5bn booked in Q1 FY2026
    assert v("nvda_h20_charge_guidance_2025_04") == 5500 and v("nvda_h20_charge_q1fy2026") == 4500
    assert BY_KEY["nvda_h20_charge_q1fy2026"]["period_start"] <= BY_KEY[
        "nvda_h20_charge_guidance_2025_04"]["period_end"] <= BY_KEY[
        "nvda_h20_charge_q1fy2026"]["period_end"]


def test_units_and_tags_come_from_the_allowed_sets() -> None:
    assert {r["unit"] for r in FIGURES} <= set(UNITS)
    assert {r["source_tag"] for r in FIGURES} <= set(SOURCE_TAGS)


# --------------------------------------------------------------------------- events
def test_events_have_categories_and_the_event_study_shocks() -> None:
    ev = {e["key"]: e for e in EVENTS}
    assert {e["category"] for e in EVENTS} <= set(EVENT_CATEGORIES)
    steps = {k: e["date"] for k, e in ev.items() if e["category"] == "export_control"}
    assert steps["a100_licence_2022"] == date(2022, 8, 31)
    assert steps["export_controls_2022"] == date(2022, 10, 7)
    assert steps["export_controls_2023"] == date(2023, 10, 17)
    assert steps["ai_diffusion_rule"] == date(2025, 1, 13)
    assert steps["h20_licence"] == date(2025, 4, 15)
    assert steps["ai_diffusion_rescinded"] == steps["huawei_ascend_guidance"] == date(2025, 5, 13)
    assert ev["china_ai_action_plan"]["date"] == date(2025, 7, 26)
    assert ev["china_ai_action_plan"]["category"] == "china_policy"
    assert ev["stargate"]["date"] == date(2025, 1, 21)
    assert ev["deepseek_shock"]["category"] == "demand_shock"
    assert ev["cisco_peak"]["date"] == date(2000, 3, 27)
    # announcements made after the US close react on the next session
    assert ev["cisco_writedown"]["after_close"] and ev["h20_licence"]["after_close"]
    assert not ev["deepseek_shock"]["after_close"]
    dotcom_warnings = [e for e in EVENTS if e["era"] == "dotcom" and e["category"] == "earnings"]
    assert len(dotcom_warnings) >= 4


def test_every_event_category_has_one_name_for_people() -> None:
    """Each category of the events has a name in words, distinct from the
    others; an unknown category is refused with the list of known ones."""
    assert set(EVENT_CATEGORY_LABELS) == set(EVENT_CATEGORIES)
    names = [category_label(c) for c in EVENT_CATEGORIES]
    assert len(set(names)) == len(names)
    assert not [(n, raw_keys(n)) for n in names if raw_keys(n)]
    assert category_label("export_control") == "US export controls"
    with pytest.raises(KeyError, match="'tariffs' is unknown; categories: export_control"):
        category_label("tariffs")
    assert [e["date"] for e in EVENTS] == sorted(e["date"] for e in EVENTS)


def test_user_events_merge_and_a_builtin_key_is_refused() -> None:
    mine = EventEntry(key="my_rule", date=date(2025, 2, 3), title="A rule",
                      category="export_control", source="https://example.org/rule", era="ai")
    merged = all_events([mine])
    assert len(merged) == len(EVENTS) + 1
    assert [e["key"] for e in merged].index("my_rule") == sum(
        e["date"] <= date(2025, 2, 3) for e in EVENTS)
    assert set(merged[0]) == {c.name for c in ReferenceEvent.__table__.columns} - {"id"}
    clash = mine.model_copy(update={"key": "deepseek_shock"})
    with pytest.raises(ConfigError, match="'deepseek_shock'.*already a built-in event"):
        all_events([clash])
    with pytest.raises(ConfigError, match="'my_rule' appears twice"):
        all_events([mine, mine])
    figures, events = reference_rows([mine])
    assert len(figures) == len(FIGURES) and "my_rule" in {e["key"] for e in events}


def test_settings_read_events_tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bubblewatch.core.settings import Settings, get_settings

    table = ('[[events]]\nkey = "nvda_split"\ndate = 2024-06-10\ntitle = "10:1 split"\n'
             'category = "listing"\nsource = "https://example.org"\n')
    cfg = tmp_path / "bw.toml"
    cfg.write_text(table)
    monkeypatch.setenv("BUBBLEWATCH_CONFIG", str(cfg))
    (event,) = Settings().events
    assert event.date == date(2024, 6, 10) and event.era == "other" and not event.after_close

    cfg.write_text(table + table)
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="'nvda_split' appears twice"):
        get_settings()
    cfg.write_text(table.replace("listing", "rumour"))
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match="events.0.category"):
        get_settings()
    get_settings.cache_clear()


# --------------------------------------------------------------------------- validation on load
def _copy(tmp_path: Path, src: Path) -> Path:
    dst = tmp_path / src.name
    shutil.copy(src, dst)
    return dst


def _edit_line(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    assert old in lines[line - 1], lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_text("\n".join(lines), encoding="utf-8")


@pytest.mark.parametrize(
    ("line", "old", "new", "message"),
    [
        (2, ",USD m,", ",EUR m,", r"line 2, key 'csco_revenue_fy1997'.*field 'unit'"),
        (3, "1996-07-28", "1996-02-30", r"line 3, key 'csco_net_income_fy1997'.*period_start"),
        (2, ",P\n", ",Q\n", r"field 'source_tag'"),
        (3, "csco_net_income_fy1997", "csco_revenue_fy1997",
         r"line 3.*'csco_revenue_fy1997' is already used on line 2"),
        (2, ",6452,", ",,", r"field 'value'"),
        (2, "https://www.sec.gov", "www.sec.gov", r"needs a URL"),
        (2, "1996-07-28,1997-07-26", "1997-07-26,1996-07-28", r"period_end .* before"),
    ],
)
def test_a_bad_figure_row_names_file_row_and_field(tmp_path: Path, line: int, old: str, new: str,
                                                   message: str) -> None:
    path = _copy(tmp_path, FIGURES_FILE)
    if old.endswith("\n"):  # an end-of-line edit
        old, new = old[:-1], new[:-1]
        text = path.read_text(encoding="utf-8").split("\n")
        assert text[line - 1].endswith(old)
        text[line - 1] = text[line - 1][: -len(old)] + new
        path.write_text("\n".join(text), encoding="utf-8")
    else:
        _edit_line(path, line, old, new)
    with pytest.raises(IngestError, match=message) as info:
        load_figures(path)
    assert str(path) in str(info.value)


def test_a_computed_row_must_name_existing_keys(tmp_path: Path) -> None:
    path = _copy(tmp_path, FIGURES_FILE)
    text = path.read_text(encoding="utf-8").replace(
        "csco_close_peak_2000 x csco_shares_basic_fy2000", "csco_close_peak_2000 x csco_shares_x",
        1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(IngestError, match=r"key 'csco_market_cap_peak_low'.*csco_shares_x"):
        load_figures(path)
    path.write_text("key,entity\n", encoding="utf-8")
    with pytest.raises(IngestError, match=r"line 1.*header must be key,entity,metric"):
        load_figures(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('category = "listing"', 'category = "rumour"', r"event 1, key 'netscape_ipo'.*category"),
        ("date = 1995-08-09", 'date = "1995-13-09"', r"event 1.*field 'date'"),
        ('key = "irrational_exuberance"', 'key = "netscape_ipo"',
         r"event 2, key 'netscape_ipo'.*already used by event 1"),
        ('era = "dotcom"', 'era = "1990s"', r"event 1.*field 'era'"),
        ("after_close = false\n", "", r"event 1.*missing field\(s\) after_close"),
        ('source = "http://fortune.com', 'source = "fortune.com', r"event 1.*cites URLs.*fortune.com"),
    ],
)
def test_a_bad_event_names_file_event_and_field(tmp_path: Path, old: str, new: str,
                                                message: str) -> None:
    path = _copy(tmp_path, EVENTS_FILE)
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(IngestError, match=message) as info:
        load_events(path)
    assert str(path) in str(info.value)


def test_events_round_trip_through_the_database(db_url: str) -> None:
    from db import repo
    from db.session import session_scope

    mine = EventEntry(key="my_event", date=date(2025, 2, 3), title="Mine", category="earnings",
                      source="https://example.org", after_close=True)
    figures, events = reference_rows([mine])
    with session_scope(db_url) as s:
        repo.upsert_reference(s, figures, events)
    with session_scope(db_url) as s:
        frame = repo.events_frame(s)
        again = repo.upsert_reference(s, figures, events)[1]
    assert again.written == 0  # idempotent
    row = frame.set_index("key").loc["my_event"]
    assert row["category"] == "earnings" and bool(row["after_close"])
    assert frame.set_index("key").loc["h20_licence", "category"] == "export_control"
    assert len(frame) == len(EVENTS) + 1
