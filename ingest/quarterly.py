"""Quarterly, annual and trailing-twelve-month series from XBRL facts.

Pure functions over the long facts frame that :func:`db.repo.facts_frame`
returns (one row per filed fact, every vintage). Periods are keyed on their
real start and end dates, never on the filing's ``fy``/``fp`` labels, because
fiscal calendars differ (NVIDIA's year ends late January, Cisco's late July).

Flow metrics (revenue, capex...) are filed as year-to-date figures in
10-Qs, so quarters are derived by differencing cumulative periods that share
a start date: Q2 = H1 − Q1, Q3 = 9M − H1 and Q4 = FY − 9M. A derived quarter
is known from the later of its two components' filing dates, so series built
``as_of`` a date never look ahead.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ingest.concepts import Metric, metric, split_concept

QUARTER_DAYS = (80, 100)
YEAR_DAYS = (350, 380)

OUT_COLUMNS = ["period_start", "period_end", "value", "filed", "derived", "concept"]


def _prepare(facts: pd.DataFrame, m: Metric, as_of: date | None) -> pd.DataFrame:
    if facts.empty:
        return facts
    df = facts
    if as_of is not None:
        df = df[pd.to_datetime(df["filed"]) <= pd.Timestamp(as_of)]
    wanted = {split_concept(c) for c in m.concepts}
    tax = df["taxonomy"] if "taxonomy" in df.columns else pd.Series("us-gaap", index=df.index)
    mask = [(t, c) in wanted for t, c in zip(tax, df["concept"], strict=True)]
    df = df.loc[mask].copy()
    if "unit" in df.columns:
        df = df[df["unit"] == m.unit]
    if df.empty:
        return df
    df["taxonomy"] = tax.loc[df.index]
    df["qualified"] = df["taxonomy"] + ":" + df["concept"]
    for col in ("period_start", "period_end", "filed"):
        df[col] = pd.to_datetime(df[col])
    # latest vintage of each (concept, period) wins: restatements replace originals
    df = df.sort_values(["filed", "accession"] if "accession" in df.columns else ["filed"])
    return df.drop_duplicates(["qualified", "period_start", "period_end"], keep="last")


def _days(start: pd.Series, end: pd.Series) -> pd.Series:
    return (end - start).dt.days + 1


def _quarters_one_concept(df: pd.DataFrame, differences: bool = True) -> pd.DataFrame:
    """Direct and (for flows, ``differences``) derived quarters of one concept."""
    out: list[dict] = []
    days = _days(df["period_start"], df["period_end"])
    direct = df[(days >= QUARTER_DAYS[0]) & (days <= QUARTER_DAYS[1])]
    for r in direct.itertuples():
        out.append({"period_start": r.period_start, "period_end": r.period_end,
                    "value": float(r.value), "filed": r.filed, "derived": False})
    cumulative = df[days > QUARTER_DAYS[1]]
    chains = pd.concat([direct, cumulative]).sort_values(["period_start", "period_end"])
    for _, group in chains.groupby("period_start") if differences else ():
        rows = list(group.itertuples())
        for prev, cur in itertools.pairwise(rows):
            gap = (cur.period_end - prev.period_end).days
            if QUARTER_DAYS[0] <= gap <= QUARTER_DAYS[1]:
                out.append({
                    "period_start": prev.period_end + timedelta(days=1),
                    "period_end": cur.period_end,
                    "value": float(cur.value) - float(prev.value),
                    "filed": max(cur.filed, prev.filed),
                    "derived": True,
                })
    if not out:
        return pd.DataFrame(columns=OUT_COLUMNS[:-1])
    q = pd.DataFrame(out)
    # a directly reported quarter beats the same quarter derived by differencing
    q = q.sort_values(["period_start", "period_end", "derived", "filed"])
    return q.drop_duplicates(["period_start", "period_end"], keep="first")


def _merge_concepts(parts: dict[str, pd.DataFrame], m: Metric, key: list[str]) -> pd.DataFrame:
    """One row per period: the concept whose figure was filed most recently
    (the company's current tag), ties broken by ``m.concepts`` priority."""
    frames = []
    for concept, q in parts.items():
        if not q.empty:
            frames.append(q.assign(concept=concept, _prio=m.concepts.index(concept)))
    if not frames:
        return pd.DataFrame(columns=OUT_COLUMNS)
    allq = pd.concat(frames, ignore_index=True)
    allq = allq.sort_values([*key, "filed", "_prio"], ascending=[True] * len(key) + [False, True])
    allq = allq.drop_duplicates(key, keep="first").drop(columns="_prio")
    allq = _drop_overlaps(allq)
    return allq.sort_values("period_end").reset_index(drop=True)[OUT_COLUMNS]


def _drop_overlaps(q: pd.DataFrame) -> pd.DataFrame:
    """Where two quarters of different concepts overlap (slightly different
    period boundaries), keep the most recently filed one."""
    if len(q) < 2:
        return q
    q = q.sort_values("filed", ascending=False)
    kept: list[int] = []
    spans: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for idx, r in zip(q.index, q.itertuples(), strict=True):
        overlap = any(r.period_start < e and s < r.period_end for s, e in spans)
        if not overlap:
            kept.append(idx)
            spans.append((r.period_start, r.period_end))
    return q.loc[kept]


def quarterly_series(facts: pd.DataFrame, metric_name: str, as_of: date | None = None) -> pd.DataFrame:
    """One row per fiscal quarter for ``metric_name`` as known on ``as_of``.

    Parameters
    ----------
    facts
        Long facts frame (``concept, taxonomy, unit, period_start, period_end,
        value, filed, accession``), every vintage.
    metric_name
        A key of :data:`ingest.concepts.METRICS`.
    as_of
        Use only facts filed on or before this date (None: everything).

    Returns
    -------
    DataFrame with ``period_start, period_end, value, filed, derived, concept``
    sorted by ``period_end``. For flow metrics ``value`` is the quarter's
    amount; for stock metrics the balance at ``period_end`` (``period_start``
    equals ``period_end``). ``filed`` is when the figure became known.
    """
    m = metric(metric_name)
    df = _prepare(facts, m, as_of)
    if df.empty:
        return pd.DataFrame(columns=OUT_COLUMNS)
    if m.kind == "stock":
        return _stock_series(df, m)
    parts = {c: _quarters_one_concept(g, differences=m.kind == "flow")
             for c, g in df.groupby("qualified")}
    return _merge_concepts(parts, m, ["period_start", "period_end"])


def annual_series(facts: pd.DataFrame, metric_name: str, as_of: date | None = None) -> pd.DataFrame:
    """One row per fiscal year (durations of 350–380 days) as filed (10-K)."""
    m = metric(metric_name)
    df = _prepare(facts, m, as_of)
    if df.empty or m.kind == "stock":
        return pd.DataFrame(columns=OUT_COLUMNS)
    days = _days(df["period_start"], df["period_end"])
    years = df[(days >= YEAR_DAYS[0]) & (days <= YEAR_DAYS[1])]
    parts = {
        c: g[["period_start", "period_end", "value", "filed"]].assign(derived=False,
                                                                        value=g["value"].astype(float))
        for c, g in years.groupby("qualified")
    }
    return _merge_concepts(parts, m, ["period_start", "period_end"])


def _stock_series(df: pd.DataFrame, m: Metric) -> pd.DataFrame:
    parts = {
        c: g.assign(period_start=g["period_end"], value=g["value"].astype(float), derived=False)[
            ["period_start", "period_end", "value", "filed", "derived"]
        ]
        for c, g in df.groupby("qualified")
    }
    frames = [q.assign(concept=c, _prio=m.concepts.index(c)) for c, q in parts.items()]
    allq = pd.concat(frames, ignore_index=True)
    allq = allq.sort_values(["period_end", "filed", "_prio"], ascending=[True, False, True])
    allq = allq.drop_duplicates(["period_end"], keep="first").drop(columns="_prio")
    return allq.sort_values("period_end").reset_index(drop=True)[OUT_COLUMNS]


def ttm_series(facts: pd.DataFrame, metric_name: str, as_of: date | None = None) -> pd.DataFrame:
    """Trailing four quarters summed, for each quarter that closes a run of four
    contiguous quarters (each starting within 7 days after the previous ends).

    Columns ``period_start`` (first quarter's start), ``period_end``, ``value``,
    ``filed`` (the latest of the four).
    """
    q = quarterly_series(facts, metric_name, as_of)
    if metric(metric_name).kind != "flow":
        raise ValueError(f"TTM is defined for flow metrics; {metric_name!r} is a balance")
    rows = []
    starts, ends = q["period_start"].to_numpy(), q["period_end"].to_numpy()
    vals, filed = q["value"].to_numpy(dtype=float), q["filed"].to_numpy()
    one_week = np.timedelta64(7, "D")
    for i in range(3, len(q)):
        window = range(i - 3, i + 1)
        contiguous = all(
            np.timedelta64(0, "D") < starts[j] - ends[j - 1] <= one_week for j in list(window)[1:]
        )
        if contiguous:
            rows.append({
                "period_start": starts[i - 3], "period_end": ends[i],
                "value": float(vals[i - 3 : i + 1].sum()), "filed": filed[i - 3 : i + 1].max(),
            })
    return pd.DataFrame(rows, columns=["period_start", "period_end", "value", "filed"])
