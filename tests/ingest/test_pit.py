"""Point-in-time fundamentals (ingest.pit).

Hand-made facts frames for each rule and each kind of bad input; a property
test that every answer equals a replay on the facts filed by that day; and
real NVIDIA and Alphabet companyfacts against a plain as-of recomputation
written here from the rules alone (filter to filed <= D, latest vintage per
concept and period, concept priority, year-to-date differences, four
contiguous quarters).
"""

from __future__ import annotations

import warnings
from itertools import pairwise

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bubblewatch.core.errors import DataQualityWarning
from ingest.concepts import metric
from ingest.pit import (
    first_release,
    pit_balance,
    pit_history,
    pit_quarters,
    pit_ttm,
    rolling_ttm,
)
from tests.conftest import load_shared_facts

REV = "Revenues"  # priority 1 of the revenue metric
REV2 = "RevenueFromContractWithCustomerExcludingAssessedTax"  # priority 2
NI, NI3 = "NetIncomeLoss", "NetIncomeLossAvailableToCommonStockholdersBasic"
PPE, PA = "PaymentsToAcquirePropertyPlantAndEquipment", "PaymentsToAcquireProductiveAssets"
T = pd.Timestamp


def fact(concept: str, start: str, end: str, value: float, filed: str, accn: str | None = None,
         unit: str = "USD", taxonomy: str = "us-gaap") -> dict:
    return {"symbol": "TEST", "taxonomy": taxonomy, "concept": concept, "unit": unit,
            "period_start": pd.Timestamp(start).date(), "period_end": pd.Timestamp(end).date(),
            "value": float(value), "filed": pd.Timestamp(filed).date(),
            "accession": accn or f"0000000000-{filed[2:4]}-{filed[5:7]}{filed[8:10]}"}


def frame(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return fn(*args, **kwargs)


def year(concept: str, y: int, q1: float, h1: float, m9: float, fy: float,
         filed: tuple[str, str, str, str]) -> list[dict]:
    """A calendar fiscal year filed as Q1 (direct), H1, 9M and FY."""
    return [fact(concept, f"{y}-01-01", f"{y}-03-31", q1, filed[0]),
            fact(concept, f"{y}-01-01", f"{y}-06-30", h1, filed[1]),
            fact(concept, f"{y}-01-01", f"{y}-09-30", m9, filed[2]),
            fact(concept, f"{y}-01-01", f"{y}-12-31", fy, filed[3])]


# --------------------------------------------------------------------------- rules
def test_derived_quarters_are_known_from_the_later_component_as_known_that_day() -> None:
    facts = frame(
        fact(REV, "2020-01-01", "2020-03-31", 10, "2020-05-01"),
        fact(REV, "2020-01-01", "2020-06-30", 25, "2020-08-01"),
        fact(REV, "2020-01-01", "2020-06-30", 27, "2020-11-01"),  # H1 restated with the 9M
        fact(REV, "2020-01-01", "2020-09-30", 45, "2020-11-01"),
    )
    before = pit_quarters(facts, "revenue", T("2020-07-31"))
    assert before["value"].tolist() == [10]
    sept = pit_quarters(facts, "revenue", T("2020-09-01")).set_index("period_end")
    assert sept.loc[T("2020-06-30"), "value"] == 15  # H1 - Q1
    assert sept.loc[T("2020-06-30"), "known_since"] == T("2020-08-01")
    assert bool(sept.loc[T("2020-06-30"), "derived"])
    nov = pit_quarters(facts, "revenue", T("2020-11-01")).set_index("period_end")
    assert nov["value"].tolist() == [10, 17, 18]  # restated H1: Q2 = 27 - 10, Q3 = 45 - 27
    assert nov.loc[T("2020-06-30"), "known_since"] == T("2020-08-01")  # not re-dated
    assert nov.loc[T("2020-06-30"), "filed"] == T("2020-11-01")  # rests on the restatement
    first = pit_quarters(facts, "revenue", vintage="first").set_index("period_end")
    assert first["value"].tolist() == [10, 15, 20]  # as first reported: H1 stays 25


def test_a_retagged_comparative_never_redates_an_old_quarter() -> None:
    # 2019 under Revenues; from 2020 the company tags RevenueFromContract...
    # and its 2021 10-K re-files 2019 as a comparative under the new tag.
    f19 = ("2019-05-01", "2019-08-01", "2019-11-01", "2020-02-15")
    f20 = ("2020-05-01", "2020-08-01", "2020-11-01", "2021-02-15")
    facts = frame(*year(REV, 2019, 10, 25, 45, 70, f19), *year(REV2, 2020, 20, 42, 66, 92, f20),
                  fact(REV2, "2019-01-01", "2019-12-31", 70, "2021-02-15"),
                  fact(REV2, "2019-01-01", "2019-09-30", 45, "2021-02-15"))
    ttm = pit_ttm(facts, "revenue", pd.DatetimeIndex(["2020-03-01", "2020-06-01",
                                                      "2021-03-01"]))
    assert ttm["value"].tolist() == [70, 15 + 20 + 25 + 20, 92]
    assert ttm["period_end"].tolist() == [T("2019-12-31"), T("2020-03-31"), T("2020-12-31")]
    assert ttm["known_since"].tolist() == [T("2020-02-15"), T("2020-05-01"), T("2021-02-15")]
    assert ttm["concepts"].iloc[1] == f"us-gaap:{REV},us-gaap:{REV2}"
    q = pit_quarters(facts, "revenue").set_index("period_end")
    assert q.loc[T("2019-12-31"), "known_since"] == T("2020-02-15")
    assert q.loc[T("2019-12-31"), "concept"] == f"us-gaap:{REV}"  # priority, not recency
    # the as-first-known rows never use the comparative filed in 2021
    fr = first_release(facts, "revenue").set_index("period_end")
    assert fr.loc[T("2019-12-31"), "filed"] == T("2020-02-15")


def test_concept_priority_means_priority() -> None:
    facts = frame(
        # both concepts for Q1: the preferred one wins although the other is newer
        fact(NI, "2020-01-01", "2020-03-31", 10, "2020-05-01"),
        fact(NI3, "2020-01-01", "2020-03-31", 9, "2020-08-01"),
        # Q2 first only under the fallback; the preferred concept comes later
        fact(NI3, "2020-04-01", "2020-06-30", 11, "2020-08-01"),
        fact(NI, "2020-04-01", "2020-06-30", 12, "2020-11-01"),
    )
    with pytest.warns(DataQualityWarning, match="disagree for 2020-01-01..2020-03-31"):
        # as of 2020-08-01 the quarters rest on two concepts that differ for Q1
        aug = pit_quarters(facts, "net_income", T("2020-08-01")).set_index("period_end")
    assert aug["value"].tolist() == [10, 11]
    assert aug["concept"].tolist() == [f"us-gaap:{NI}", f"us-gaap:{NI3}"]
    nov = pit_quarters(facts, "net_income", T("2020-11-01")).set_index("period_end")
    assert nov["value"].tolist() == [10, 12]  # replaced from the day it was filed
    assert nov.loc[T("2020-06-30"), "known_since"] == T("2020-08-01")
    assert nov.loc[T("2020-06-30"), "filed"] == T("2020-11-01")


def test_restatements_count_from_their_filing_day_or_never_as_first_reported() -> None:
    facts = frame(*year(PPE, 2023, 10, 25, 45, 70, ("2023-05-01", "2023-08-01", "2023-11-01",
                                                    "2024-02-01")),
                  fact(PPE, "2023-01-01", "2023-12-31", 72, "2025-02-01"))
    days = pd.DatetimeIndex(["2024-01-31", "2024-02-01", "2025-01-31", "2025-02-01"])
    latest = pit_ttm(facts, "capex", days)
    assert np.isnan(latest["value"].iloc[0])
    assert latest["value"].iloc[1:].tolist() == [70, 70, 72]
    assert latest["filed"].iloc[-1] == T("2025-02-01")
    assert latest["known_since"].iloc[-1] == T("2024-02-01")
    first = pit_ttm(facts, "capex", days, vintage="first")
    assert first["value"].iloc[1:].tolist() == [70, 70, 70]


def test_balances_and_shares_without_a_taxonomy_column() -> None:
    facts = frame(
        fact("EntityCommonStockSharesOutstanding", "2024-02-20", "2024-02-20", 100, "2024-02-25",
             unit="shares", taxonomy="dei"),
        fact("CommonStockSharesOutstanding", "2024-01-31", "2024-01-31", 99, "2024-02-25",
             unit="shares"),
        fact("EntityCommonStockSharesOutstanding", "2024-05-20", "2024-05-20", 101, "2024-05-25",
             unit="shares", taxonomy="dei"),
    ).drop(columns="taxonomy")  # like FrameSource frames: concepts match by name
    s = pit_balance(facts, "shares_outstanding", pd.DatetimeIndex(["2024-03-01", "2024-06-01"]))
    assert s["value"].tolist() == [100, 101]
    assert s["concepts"].iloc[0] == "dei:EntityCommonStockSharesOutstanding"
    with pytest.raises(ValueError, match="flow"):
        pit_balance(facts, "revenue", s.index)
    with pytest.raises(ValueError, match="flow metrics"):
        pit_ttm(facts, "shares_outstanding", s.index)
    with pytest.raises(ValueError, match="vintage"):
        pit_history(facts, "revenue", vintage="best")  # type: ignore[arg-type]


def test_rolling_ttm_needs_four_contiguous_quarters() -> None:
    ends = pd.to_datetime(["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31",
                           "2025-06-30"])
    q = pd.DataFrame({"period_start": ends - pd.Timedelta(days=89), "period_end": ends,
                      "value": [1.0, 2.0, 3.0, 4.0, 5.0]})
    out = rolling_ttm(q)
    assert out["value"].tolist() == [10.0]  # Q1 2025 is missing: no TTM at 2025-06-30
    assert out["period_start"].iloc[0] == ends[0] - pd.Timedelta(days=89)


# --------------------------------------------------------------------------- bad input
def test_duplicated_periods() -> None:
    same = fact(REV, "2020-01-01", "2020-03-31", 10, "2020-05-01", "a-1")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)  # identical rows are harmless
        assert pit_quarters(frame(same, same), "revenue")["value"].tolist() == [10]
    clash = frame(same, fact(REV, "2020-01-01", "2020-03-31", 11, "2020-05-01", "a-2"))
    with pytest.warns(DataQualityWarning) as rec:
        q = pit_quarters(clash, "revenue")
    msg = str(rec[0].message)
    assert "TEST" in msg and f"us-gaap:{REV}" in msg and "2020-01-01..2020-03-31" in msg
    assert "a-1" in msg and "a-2" in msg
    assert q["value"].tolist() == [11]  # the later accession, and said so


def test_unit_mix_is_ignored_and_named() -> None:
    facts = frame(fact(REV, "2020-01-01", "2020-03-31", 10e9, "2020-05-01"),
                  fact(REV, "2020-01-01", "2020-03-31", 1.23, "2020-05-01", unit="USD/shares"))
    with pytest.warns(DataQualityWarning, match=r"TEST.*us-gaap:Revenues in unit\(s\) "
                                                r"USD/shares ignored.*2020-03-31"):
        q = pit_quarters(facts, "revenue")
    assert q["value"].tolist() == [10e9]


def test_concept_change_mid_history_that_disagrees_is_flagged() -> None:
    # the company moves to PaymentsToAcquireProductiveAssets for its 10-K; the
    # new tag's 9M comparative disagrees with the old tag's 9M
    facts = frame(*year(PPE, 2023, 10, 25, 45, 70, ("2023-05-01", "2023-08-01", "2023-11-01",
                                                    "2024-02-01"))[:3],
                  fact(PA, "2023-01-01", "2023-12-31", 80, "2024-02-01"),
                  fact(PA, "2023-01-01", "2023-09-30", 50, "2024-02-01"))
    with pytest.warns(DataQualityWarning) as rec:
        q = pit_quarters(facts, "capex").set_index("period_end")
    text = " ".join(str(w.message) for w in rec)
    assert f"us-gaap:{PPE} and us-gaap:{PA} disagree for 2023-01-01..2023-09-30" in text
    # priority: the 9M comes from the preferred tag, so Q4 = 80 - 45 mixes the two
    assert q.loc[T("2023-12-31"), "value"] == 35
    assert q.loc[T("2023-12-31"), "concepts"] == f"us-gaap:{PPE},us-gaap:{PA}"


def test_negative_quarter_of_a_nonnegative_quantity_is_flagged() -> None:
    facts = frame(*year(PPE, 2023, 10, 25, 45, 30, ("2023-05-01", "2023-08-01", "2023-11-01",
                                                    "2024-02-01")))
    with pytest.warns(DataQualityWarning, match=r"capex for 2023-10-01..2023-12-31 is negative"):
        pit_quarters(facts, "capex")
    ni = frame(*year(NI, 2023, 10, 5, -1, -20, ("2023-05-01", "2023-08-01", "2023-11-01",
                                                "2024-02-01")))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataQualityWarning)  # losses are fine
        assert pit_quarters(ni, "net_income")["value"].tolist() == [10, -5, -6, -19]


def test_overlapping_quarters_and_stale_ttm_are_flagged() -> None:
    facts = frame(fact(REV, "2020-01-01", "2020-03-31", 10, "2020-05-01"),
                  fact(REV, "2020-01-02", "2020-04-01", 11, "2020-05-02"))
    with pytest.warns(DataQualityWarning, match="overlaps quarter"):
        q = pit_quarters(facts, "revenue")
    assert len(q) == 1
    ends = ["2020-03-31", "2020-06-30", "2020-09-30", "2020-12-31", "2021-06-30"]
    starts = ["2020-01-01", "2020-04-01", "2020-07-01", "2020-10-01", "2021-04-01"]
    gap = frame(*[fact(REV, s, e, 10, "2021-08-01") for s, e in zip(starts, ends, strict=True)])
    with pytest.warns(DataQualityWarning, match="between 2020-12-31 and 2021-04-01"):
        t = pit_ttm(gap, "revenue", pd.DatetimeIndex(["2021-08-02"]))
    assert t["period_end"].iloc[0] == T("2020-12-31")
    assert t["last_quarter_end"].iloc[0] == T("2021-06-30")  # the caller sees it is stale


# --------------------------------------------------------------------------- property
_QUARTERS = [(f"{y}-01-01", e) for y in (2020, 2021) for e in
             (f"{y}-03-31", f"{y}-06-30", f"{y}-09-30", f"{y}-12-31")]


@st.composite
def random_facts(draw: st.DrawFn) -> pd.DataFrame:
    rows = []
    for start, end in _QUARTERS:
        for concept in draw(st.lists(st.sampled_from([REV, REV2]), min_size=1, max_size=2,
                                     unique=True)):
            end_ts = T(end)
            for _ in range(draw(st.integers(1, 3))):  # vintages
                lag = draw(st.integers(20, 900))
                rows.append(fact(concept, start, end, draw(st.integers(0, 100)),
                                 (end_ts + pd.Timedelta(days=lag)).date().isoformat(),
                                 accn=f"x-{draw(st.integers(0, 9))}"))
    return frame(*rows)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=random_facts(), day=st.dates(pd.Timestamp("2020-03-01").date(),
                                          pd.Timestamp("2023-12-31").date()))
def test_every_answer_equals_a_replay_of_the_facts_filed_by_then(facts: pd.DataFrame,
                                                                 day) -> None:
    d = pd.DatetimeIndex([day])
    cut = facts[pd.to_datetime(facts["filed"]) <= d[0]].reset_index(drop=True)
    full = quiet(pit_ttm, facts, "revenue", d)
    past = quiet(pit_ttm, cut, "revenue", d)
    pd.testing.assert_frame_equal(full, past, check_dtype=False)
    pd.testing.assert_frame_equal(quiet(pit_quarters, facts, "revenue", d[0]),
                                  quiet(pit_quarters, cut, "revenue"), check_dtype=False)


# --------------------------------------------------------------------------- real data
def oracle_facts(facts: pd.DataFrame, quantity: str) -> pd.DataFrame:
    """The quantity's facts in its unit, with its concept priority and dates parsed."""
    m = metric(quantity)
    prio = {c.split(":")[1]: i for i, c in enumerate(m.concepts)}
    f = facts[facts["concept"].isin(prio) & (facts["unit"] == m.unit)]
    s, e = pd.to_datetime(f["period_start"]), pd.to_datetime(f["period_end"])
    return pd.DataFrame({"prio": f["concept"].map(prio), "s": s, "e": e,
                         "days": (e - s).dt.days + 1, "value": f["value"].astype(float),
                         "filed": pd.to_datetime(f["filed"]), "accession": f["accession"]})


def oracle_ttm(f: pd.DataFrame, day: pd.Timestamp) -> tuple[float, pd.Timestamp]:
    """TTM known on ``day``: a plain recomputation from the rules on the facts
    of :func:`oracle_facts` filed by then."""
    f = f[f["filed"] <= day].sort_values(["filed", "accession"])
    f = f.drop_duplicates(["prio", "s", "e"], keep="last")  # latest vintage per concept
    f = f.sort_values("prio").drop_duplicates(["s", "e"], keep="first")  # priority
    cand = {}
    for r in f[f["days"].between(80, 100)].itertuples():
        cand[(r.s, r.e)] = (r.value, False, r.prio, r.filed)
    for _, g in f[f["days"] >= 80].groupby("s"):
        for a, b in pairwise(g.sort_values("e").itertuples()):
            k = (a.e + pd.Timedelta(days=1), b.e)
            if 80 <= (b.e - a.e).days <= 100 and k not in cand:
                cand[k] = (b.value - a.value, True, b.prio, max(a.filed, b.filed))
    kept: list = []  # overlaps: reported, then preferred concept, then newest filing
    for k in sorted(cand, key=lambda k: (cand[k][1], cand[k][2], -cand[k][3].value, k)):
        if not any(o[0] <= k[1] and k[0] <= o[1] for o in kept):
            kept.append(k)
    kept.sort(key=lambda k: k[1])
    for i in range(len(kept) - 1, 2, -1):
        win = kept[i - 3:i + 1]
        if all(pd.Timedelta(0) < b[0] - a[1] <= pd.Timedelta(days=7) for a, b in pairwise(win)):
            v = [cand[k][0] for k in win]
            return ((v[0] + v[1]) + v[2]) + v[3], win[-1][1]
    return np.nan, pd.NaT


@pytest.fixture(scope="module")
def real() -> dict[str, pd.DataFrame]:
    out = {}
    for cik, sym in ((1045810, "NVDA"), (1652044, "GOOGL")):
        f = load_shared_facts(cik, sym)
        out[sym] = f.assign(filed_ts=pd.to_datetime(f["filed"]))
    return out


def _test_dates(facts: pd.DataFrame, n_weekly: int = 200) -> pd.DatetimeIndex:
    """``n_weekly`` Fridays spread from the company's first filing (2010 at
    the earliest) to mid-2026, every filing day and the day before each
    (where the state changes), and the two days of the review."""
    used = facts["concept"].isin([REV, REV2, NI, NI3, PPE, PA])
    filed = pd.DatetimeIndex(facts.loc[used, "filed_ts"].unique())
    filed = filed[filed >= "2010-01-01"]
    fridays = pd.date_range(max(filed.min(), T("2010-01-01")), "2026-06-30", freq="W-FRI")
    pick = fridays[np.linspace(0, len(fridays) - 1, n_weekly).round().astype(int)]
    return pick.union(filed).union(filed - pd.Timedelta(days=1)).union(
        pd.DatetimeIndex(["2021-11-19", "2024-06-28"]))


@pytest.mark.parametrize("sym", ["NVDA", "GOOGL"])
@pytest.mark.parametrize("quantity", ["revenue", "net_income", "capex"])
def test_layer_equals_a_plain_as_of_recomputation(real: dict[str, pd.DataFrame], sym: str,
                                                  quantity: str) -> None:
    facts = real[sym]
    dates = _test_dates(facts)
    layer = quiet(pit_ttm, facts, quantity, dates)
    mine = oracle_facts(facts, quantity)
    diffs = []
    for day in dates:
        v, end = oracle_ttm(mine, day)
        got = layer.loc[day]
        same = (np.isnan(v) and np.isnan(got["value"])) or (
            v == got["value"] and end == got["period_end"])
        if not same:
            diffs.append((day.date(), v, got["value"], end, got["period_end"]))
    known = int(layer["value"].notna().sum())
    print(f"{sym} {quantity}: {len(dates)} dates ({known} with a TTM), "
          f"{len(diffs)} differences")
    assert known >= 250
    assert diffs == []


@pytest.mark.parametrize(("sym", "first_quarter"), [("NVDA", "2010-01-01"),
                                                    ("GOOGL", "2015-09-30")])
def test_quarters_keep_the_date_they_were_first_known(real: dict[str, pd.DataFrame], sym: str,
                                                      first_quarter: str) -> None:
    # NVIDIA re-tagged revenue in its FY2019 and FY2022 10-Ks and Alphabet its
    # income lines in 2024-2025, re-filing years of comparatives: none of them
    # may make an old quarter look first known years later.
    for quantity in ("revenue", "net_income"):
        q = quiet(pit_quarters, real[sym], quantity)
        q = q[q["period_end"] >= T(first_quarter)]
        lag = (q["known_since"] - q["period_end"]).dt.days
        assert len(q) >= 40 and lag.max() <= 70, q[lag > 70]
    # Alphabet's NetIncomeLossAvailableToCommonStockholdersBasic never displaces NetIncomeLoss
    ni = quiet(pit_quarters, real[sym], "net_income")
    assert (ni["concept"] == f"us-gaap:{NI}").all()
