"""Point-in-time fundamentals: what a company's filings said on any given day.

One economic quantity (revenue, capex, net income, operating cash flow,
receivables, inventory, shares...; :data:`ingest.concepts.METRICS`) is read
from the long facts frame (one row per filed fact, every vintage; see
:func:`db.repo.facts_frame`) across all its XBRL tag aliases. The state of a
quantity *as known on day D* is defined from the facts filed on or before D
only, in four steps:

1. **Vintage.** For every (concept, period) the latest vintage filed by D
   (``vintage="latest"``, the default: restatements known by D replace the
   original figure), or the first one (``vintage="first"``: as first
   reported). Two different values for one (concept, period) filed on the
   same day are a conflict: the later accession number is used and a
   :class:`~bubblewatch.core.errors.DataQualityWarning` names the company,
   concept and period.
2. **Concept priority.** For every period the first concept of the metric's
   ``concepts`` that has a figure by D supplies it. Priority means priority:
   a preferred concept wins whenever both are known. When the preferred
   concept appears for a period only later (a re-tagged comparative), the
   fallback's figure is used until that filing date and the preferred one
   from then on, like a restatement; the period keeps the date it was first
   known.
3. **Quarters.** Periods of 80-100 days are quarters as reported. Flow
   quantities are filed year-to-date in 10-Qs, so cumulative periods (longer
   than 100 days) that share a start date are differenced: Q2 = H1 - Q1,
   Q3 = 9M - H1, Q4 = FY - 9M, each from its components as known on D (a
   directly reported quarter beats a derived one). Where two quarters overlap
   with different boundaries, the directly reported one, then the preferred
   concept, then the most recent filing is kept (with a warning). Balances
   (``kind="stock"``) are one figure per period end; averages (weighted
   shares) use reported quarters only.
4. **Trailing figure.** For flows, the sum of the four most recent contiguous
   quarters (each starting 1-7 days after the previous one ends); for stocks
   and averages, the figure of the latest period end.

Because a filing can only change the state on the day it is filed, the
state is recomputed once per distinct filing date, in one pass over the
facts sorted by filing date, and carried forward between them
(:func:`pit_history`). Every answer is therefore equal, by construction, to a
recomputation on the facts filtered to ``filed <= D``, and a later re-tagging
never re-dates an earlier quarter: ``known_since`` is the first day a
quarter (or a quarter it replaced with slightly different boundaries) could
be computed, ``filed`` the filing date of the newest figure its current value
rests on.

Bad input never yields a silent wrong value: figures in another unit than
the metric's (``USD/shares`` under a ``USD`` concept), same-day conflicts,
overlapping quarters, negative quarters of a quantity that cannot be negative
and quarters derived from two concepts that disagree elsewhere are each
reported once per history as a ``DataQualityWarning`` naming the company,
concept and period (and listed in :attr:`PitHistory.issues`).

A filing is taken as known on its filing date (for a daily close series:
at that day's close).
"""

from __future__ import annotations

import warnings
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Literal

import numpy as np
import pandas as pd

from bubblewatch.core.errors import DataQualityWarning
from ingest.concepts import Metric, metric, split_concept

Vintage = Literal["latest", "first"]
VINTAGES: tuple[str, ...] = ("latest", "first")

#: Durations (days, both ends included) of a quarter and of a fiscal year.
QUARTER_DAYS = (80, 100)
YEAR_DAYS = (350, 380)
#: Largest gap (days) between one quarter's end and the next one's start in a TTM.
MAX_GAP_DAYS = 7

QUARTER_COLUMNS = ["period_start", "period_end", "value", "filed", "known_since", "derived",
                   "concept", "concepts"]
TRAILING_COLUMNS = ["value", "period_start", "period_end", "filed", "known_since", "concepts",
                    "last_quarter_end", "as_of"]

_EPOCH = np.datetime64("1970-01-01", "D")


# --------------------------------------------------------------------------- result
@dataclass(frozen=True, slots=True)
class PitHistory:
    """Every state of one quantity of one company, one per filing date that changed it.

    Attributes
    ----------
    quantity, company, vintage
        What was replayed (``vintage`` is ``"latest"`` or ``"first"``).
    kind
        The metric's kind: ``"flow"``, ``"stock"`` or ``"average"``.
    versions
        One row per version of a period's figure: :data:`QUARTER_COLUMNS` plus
        ``valid_from`` (filing date from which this version is the one known)
        and ``valid_to`` (the date a later filing replaced or removed it; NaT
        while current). Values in the metric's unit (USD, shares).
    trailing
        One row per filing date (``as_of``) on which the trailing figure
        changed: for flows the sum of the last four contiguous quarters, for
        stocks and averages the latest period's figure, with the
        ``period_start``/``period_end`` it covers, the newest filing it rests
        on (``filed``), the day that period became computable
        (``known_since``) and the concepts used (comma-separated).
    issues
        Data-quality findings (also emitted as ``DataQualityWarning``).
    """

    quantity: str
    company: str
    vintage: str
    kind: str
    versions: pd.DataFrame
    trailing: pd.DataFrame
    issues: tuple[str, ...]

    @property
    def events(self) -> pd.DatetimeIndex:
        """Filing dates on which the quarterly table changed."""
        return pd.DatetimeIndex(self.versions["valid_from"].drop_duplicates().sort_values())

    def quarters(self, as_of: date | pd.Timestamp | str | None = None) -> pd.DataFrame:
        """The quarterly table (balances for stocks) as known on ``as_of``
        (``None``: today), sorted by ``period_end``; :data:`QUARTER_COLUMNS`."""
        v = self.versions
        if as_of is not None and not v.empty:
            d = pd.Timestamp(as_of)
            valid_to = v["valid_to"]
            v = v[(v["valid_from"] <= d) & (valid_to.isna() | (valid_to > d))]
        elif not v.empty:
            v = v[v["valid_to"].isna()]
        return v[QUARTER_COLUMNS].sort_values("period_end").reset_index(drop=True)

    def first_release(self) -> pd.DataFrame:
        """Each quarter (of today's table) as it was first known: its value on
        its ``known_since`` day. This is the real-time vintage: a row never
        uses a figure filed after the row became known."""
        v = self.versions
        if v.empty:
            return v[QUARTER_COLUMNS].copy()
        current = v[v["valid_to"].isna()][["period_start", "period_end"]]
        first = v.sort_values("valid_from").drop_duplicates(["period_start", "period_end"])
        first = first.merge(current, on=["period_start", "period_end"])
        return first[QUARTER_COLUMNS].sort_values("period_end").reset_index(drop=True)

    def on(self, dates: Iterable) -> pd.DataFrame:
        """The trailing figure known on each of ``dates``.

        Returns a frame indexed by ``dates`` with :data:`TRAILING_COLUMNS`
        (``as_of`` is the filing date of the state used); NaN/NaT where
        nothing was known yet.
        """
        idx = pd.DatetimeIndex(dates if isinstance(dates, pd.Index) else list(dates))
        t = self.trailing
        known = idx.to_numpy(dtype="datetime64[ns]")
        pos = np.searchsorted(t["as_of"].to_numpy(dtype="datetime64[ns]"), known,
                              side="right") - 1
        ok = pos >= 0
        take = np.where(ok, pos, 0)
        out: dict[str, np.ndarray] = {}
        for c in TRAILING_COLUMNS:
            src = t[c].to_numpy()
            if len(src) == 0:
                src = np.array([np.nan if c == "value" else "" if c == "concepts"
                                else np.datetime64("NaT", "ns")])
            vals = src[take]
            if c == "value":
                vals = np.where(ok, vals, np.nan)
            elif c == "concepts":
                vals = np.where(ok, vals, "")
            else:
                vals = np.where(ok, vals, np.datetime64("NaT", "ns"))
            out[c] = vals
        return pd.DataFrame(out, index=idx)


# --------------------------------------------------------------------------- entry points
_CACHE: OrderedDict[tuple[int, str, str, str], tuple[pd.DataFrame, PitHistory]] = OrderedDict()
_CACHE_SIZE = 64


def pit_history(facts: pd.DataFrame, quantity: str, *, vintage: Vintage = "latest",
                company: str | None = None) -> PitHistory:
    """Replay every filing of ``quantity`` in date order (see the module notes).

    Parameters
    ----------
    facts
        Long facts frame: ``concept, unit, period_start, period_end, value,
        filed`` and optionally ``taxonomy`` (without it concepts match by
        name), ``accession``, ``symbol``/``cik`` (to name the company in
        warnings). Every vintage.
    quantity
        A key of :data:`ingest.concepts.METRICS`.
    vintage
        ``"latest"`` (restatements known by a date replace the originals) or
        ``"first"`` (each figure as first reported).
    company
        Name used in warnings; default from the frame's ``symbol`` or ``cik``.

    Returns
    -------
    PitHistory
        Cached per (frame, quantity, vintage, company) while the frame object
        lives (do not change a frame in place after passing it); warnings are
        emitted when it is first built.
    """
    if vintage not in VINTAGES:
        raise ValueError(f"vintage must be one of {', '.join(VINTAGES)}; got {vintage!r}")
    m = metric(quantity)
    who = company or _company_name(facts)
    key = (id(facts), quantity, vintage, who)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is facts:
        _CACHE.move_to_end(key)
        return hit[1]
    hist = _build(facts, m, vintage, who)
    for msg in hist.issues:
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
    _CACHE[key] = (facts, hist)
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return hist


def pit_ttm(facts: pd.DataFrame, quantity: str, dates: Iterable, *,
            vintage: Vintage = "latest", company: str | None = None) -> pd.DataFrame:
    """Trailing-twelve-month value of a flow ``quantity`` known on each of ``dates``.

    Returns a frame indexed by ``dates``: ``value`` (sum of the four latest
    contiguous quarters known that day, in the metric's unit),
    ``period_start``/``period_end`` (what the four quarters cover), ``filed``
    (newest filing the value rests on), ``known_since`` (first day this TTM
    period was computable), ``concepts`` (XBRL concepts used) and ``as_of``
    (filing date of the state used). Computed once per filing date and
    carried forward, so daily series over decades cost one pass.
    """
    hist = pit_history(facts, quantity, vintage=vintage, company=company)
    if hist.kind != "flow":
        raise ValueError(f"TTM is defined for flow metrics; {quantity!r} is a "
                         f"{hist.kind}: use pit_balance")
    return hist.on(dates)


def pit_balance(facts: pd.DataFrame, quantity: str, dates: Iterable, *,
                vintage: Vintage = "latest", company: str | None = None) -> pd.DataFrame:
    """Latest balance (stocks) or latest reported quarter (averages) of
    ``quantity`` known on each of ``dates``; columns as :func:`pit_ttm`."""
    hist = pit_history(facts, quantity, vintage=vintage, company=company)
    if hist.kind == "flow":
        raise ValueError(f"{quantity!r} is a flow: use pit_ttm")
    return hist.on(dates)


def pit_quarters(facts: pd.DataFrame, quantity: str, as_of: date | pd.Timestamp | None = None,
                 *, vintage: Vintage = "latest", company: str | None = None) -> pd.DataFrame:
    """The quarterly table of ``quantity`` as known on ``as_of`` (None: today)."""
    return pit_history(facts, quantity, vintage=vintage, company=company).quarters(as_of)


def first_release(facts: pd.DataFrame, quantity: str, *, company: str | None = None
                  ) -> pd.DataFrame:
    """Each quarter of ``quantity`` as first known (see :meth:`PitHistory.first_release`)."""
    return pit_history(facts, quantity, company=company).first_release()


def pit_annual(facts: pd.DataFrame, quantity: str, as_of: date | pd.Timestamp | None = None,
               *, vintage: Vintage = "latest") -> pd.DataFrame:
    """Fiscal years (periods of 350-380 days) of a flow as known on ``as_of``:
    the same vintage and priority rules, no differencing. Columns
    :data:`QUARTER_COLUMNS` (``known_since`` is the first filing of the year's
    figure under any concept)."""
    m = metric(quantity)
    if m.kind == "stock":
        return pd.DataFrame(columns=QUARTER_COLUMNS)
    who = _company_name(facts)
    issues: list[str] = []
    rows = _select(facts, m, who, issues)
    if as_of is not None:
        rows = rows.where(rows.filed <= _days(pd.Timestamp(as_of)))
    dur = rows.end - rows.start + 1
    rows = rows.where((dur >= YEAR_DAYS[0]) & (dur <= YEAR_DAYS[1]))
    rp = _Replay(m, vintage, who)
    for p, s, e, v, f, a in zip(rows.prio.tolist(), rows.start.tolist(), rows.end.tolist(),
                                rows.value.tolist(), rows.filed.tolist(), rows.accn.tolist(),
                                strict=True):
        rp.add(p, s, e, v, f, a)
    for msg in [*issues, *rp.found.values()]:
        warnings.warn(msg, DataQualityWarning, stacklevel=2)
    keys = sorted(rp.chosen, key=lambda k: k[1])
    out = pd.DataFrame({
        "period_start": _to_ts(np.array([k[0] for k in keys], dtype=np.int64)),
        "period_end": _to_ts(np.array([k[1] for k in keys], dtype=np.int64)),
        "value": np.array([rp.chosen[k][1] for k in keys], dtype=float),
        "filed": _to_ts(np.array([rp.chosen[k][2] for k in keys], dtype=np.int64)),
        "known_since": _to_ts(np.array([rp.first_seen[k] for k in keys], dtype=np.int64)),
        "derived": np.zeros(len(keys), dtype=bool),
        "concept": pd.Series([m.concepts[rp.chosen[k][0]] for k in keys], dtype="str"),
    })
    out["concepts"] = out["concept"]
    return out


# --------------------------------------------------------------------------- preparation
def _company_name(facts: pd.DataFrame) -> str:
    for col, fmt in (("symbol", "{}"), ("cik", "CIK {}")):
        if col in facts.columns:
            s = facts[col].dropna()
            if len(s):
                return fmt.format(s.iloc[0])
    return "the company"


def _days(x: pd.Timestamp) -> int:
    return int((np.datetime64(x.date(), "D") - _EPOCH).astype(int))


def _as_days(s: pd.Series | np.ndarray) -> np.ndarray:
    arr = s.to_numpy() if isinstance(s, pd.Series) else np.asarray(s)
    if arr.dtype.kind != "M":
        try:  # datetime.date objects and ISO strings convert directly
            arr = arr.astype("datetime64[D]")
        except (TypeError, ValueError):
            arr = pd.to_datetime(pd.Series(arr)).to_numpy()
    return (arr.astype("datetime64[D]") - _EPOCH).astype(np.int64)


def _to_ts(days: Iterable) -> pd.DatetimeIndex:
    arr = np.asarray(list(days) if not isinstance(days, (np.ndarray, pd.Series)) else days)
    return pd.DatetimeIndex((_EPOCH + arr.astype("timedelta64[D]")).astype("datetime64[ns]"))


def _iso(day: int) -> str:
    return str(_EPOCH + np.timedelta64(int(day), "D"))


@dataclass(frozen=True, slots=True)
class _Facts:
    """One metric's usable facts as arrays sorted by filing date then accession:
    concept priority, start/end/filed as days since 1970-01-01, value, accession."""

    prio: np.ndarray
    start: np.ndarray
    end: np.ndarray
    value: np.ndarray
    filed: np.ndarray
    accn: np.ndarray

    def where(self, mask: np.ndarray) -> _Facts:
        return _Facts(self.prio[mask], self.start[mask], self.end[mask], self.value[mask],
                      self.filed[mask], self.accn[mask])


def _select(facts: pd.DataFrame, m: Metric, who: str, issues: list[str]) -> _Facts:
    """The facts of ``m``'s concepts; facts in a foreign unit or without a
    number are dropped with an issue."""
    i64 = np.array([], dtype=np.int64)
    empty = _Facts(i64, i64, i64, np.array([], dtype=float), i64, np.array([], dtype=object))
    if facts is None or facts.empty:
        return empty
    names = [split_concept(c)[1] for c in m.concepts]
    hit = np.flatnonzero(facts["concept"].isin(names).to_numpy())
    if len(hit) == 0:
        return empty
    n = len(hit)

    def col(name: str, default: object) -> np.ndarray:
        if name not in facts.columns:
            return np.full(n, default, dtype=object)
        return facts[name].iloc[hit].to_numpy(dtype=object)

    concept, tax = col("concept", ""), col("taxonomy", None)
    by_qualified = {q: i for i, q in enumerate(m.concepts)}
    by_name = {c: i for i, c in enumerate(names)}
    prio = np.array([by_name[c] if not isinstance(t, str) or t == ""
                     else by_qualified.get(f"{t}:{c}", -1)
                     for c, t in zip(concept, tax, strict=True)], dtype=np.int64)
    unit = col("unit", m.unit).astype(str)
    value = pd.to_numeric(pd.Series(col("value", np.nan)), errors="coerce").to_numpy(dtype=float)
    ends = col("period_end", None)
    keep = prio >= 0
    for bad, what in ((keep & (unit != m.unit), "unit"), (keep & (unit == m.unit)
                                                          & np.isnan(value), "value")):
        for p in sorted(set(prio[bad])):
            sel = bad & (prio == p)
            days = sorted({str(e)[:10] for e in ends[sel]})
            shown = f"{', '.join(days[:4])}{' ...' if len(days) > 4 else ''}"
            if what == "unit":
                issues.append(
                    f"{who}: {int(sel.sum())} fact(s) of {m.concepts[p]} in unit(s) "
                    f"{', '.join(sorted(set(unit[sel])))} ignored (the {m.name} metric is in "
                    f"{m.unit!r}); periods ending {shown}. Check the filing's unit or the "
                    "concept list in ingest/concepts.py.")
            else:
                issues.append(f"{who}: {int(sel.sum())} fact(s) of {m.concepts[p]} have no "
                              f"numeric value (periods ending {shown}); they are ignored.")
    keep &= (unit == m.unit) & ~np.isnan(value)
    end = _as_days(ends[keep])
    starts = col("period_start", None)[keep]
    given = ~pd.isna(starts)
    start = end.copy()
    if given.any():
        start[given] = _as_days(starts[given])
    accn = col("accession", "")[keep].astype(str)
    filed = _as_days(col("filed", None)[keep])
    order = np.lexsort((accn, filed))
    return _Facts(prio[keep][order], start[order], end[order], value[keep][order], filed[order],
                  accn[order])


# --------------------------------------------------------------------------- replay
# A quarter row while replaying: (value, filed, derived, prio, prios, known_since)
_Row = tuple[float, int, bool, int, tuple[int, ...], int]


class _Replay:
    """The state of one metric while its filings are replayed in date order.

    ``store`` holds every concept's figure per period (the vintage rule
    applied), ``chosen`` the figure of the preferred concept per period, and
    the quarter candidates are kept per fiscal-year chain (start date) so a
    filing only recomputes the chains it touched.
    """

    def __init__(self, m: Metric, vintage: str, who: str):
        self.m, self.vintage, self.who = m, vintage, who
        self.store: dict[tuple[int, int], dict[int, tuple[float, int, str]]] = {}
        self.chosen: dict[tuple[int, int], tuple[int, float, int]] = {}
        self.ends_by_start: dict[int, set[int]] = defaultdict(set)
        self.direct: dict[tuple[int, int], tuple] = {}
        self.derived: dict[int, dict[tuple[int, int], tuple]] = {}
        self.multi: set[tuple[int, int]] = set()  # periods filed under several concepts
        self.first_seen: dict[tuple[int, int], int] = {}  # period -> first filing day
        self.found: dict[tuple, str] = {}  # issue key -> message, in order found
        self.dirty: set[int] = set()

    def note(self, key: tuple, make: Callable[[], str]) -> None:
        if key not in self.found:
            self.found[key] = make()

    def add(self, p: int, s: int, e: int, v: float, day: int, a: str) -> None:
        m = self.m
        if m.kind == "stock":
            s = e
        slot = self.store.setdefault((s, e), {})
        self.first_seen.setdefault((s, e), day)
        old = slot.get(p)
        if old is not None and old[1] == day and old[0] != v:
            self.note(("conflict", p, s, e, day), lambda: (
                f"{self.who}: {m.concepts[p]} for {_iso(s)}..{_iso(e)} was filed twice on "
                f"{_iso(day)} with different values ({old[0]:,.0f} in {old[2] or '?'}, "
                f"{v:,.0f} in {a or '?'}); the later accession's figure is used. Check the "
                "facts file for a duplicated or amended filing."))
        if old is None or self.vintage == "latest" or old[1] == day:
            slot[p] = (v, day, a)
        if len(slot) > 1:
            self.multi.add((s, e))
        best = min(slot)
        self.chosen[(s, e)] = (best, slot[best][0], slot[best][1])
        dur = e - s + 1
        if m.kind == "stock" or QUARTER_DAYS[0] <= dur <= QUARTER_DAYS[1]:
            self.direct[(s, e)] = (slot[best][0], slot[best][1], False, best, (best,))
        if m.kind == "flow" and dur >= QUARTER_DAYS[0]:
            self.ends_by_start[s].add(e)
            self.dirty.add(s)

    def quarters(self) -> dict[tuple[int, int], tuple]:
        """Quarter table (value, filed, derived, prio, prios) as of the last filing."""
        for s in self.dirty:
            chain = sorted(self.ends_by_start[s])
            out: dict[tuple[int, int], tuple] = {}
            for e0, e1 in pairwise(chain):
                if QUARTER_DAYS[0] <= e1 - e0 <= QUARTER_DAYS[1]:
                    p0, v0, f0 = self.chosen[(s, e0)]
                    p1, v1, f1 = self.chosen[(s, e1)]
                    out[(e0 + 1, e1)] = (v1 - v0, max(f0, f1), True, p1,
                                         (p0, p1) if p0 < p1 else (p1, p0) if p1 < p0 else (p0,))
            self.derived[s] = out
        self.dirty.clear()
        cand: dict[tuple[int, int], tuple] = {}
        for part in self.derived.values():
            cand.update(part)
        cand.update(self.direct)  # a reported quarter beats the same quarter derived
        return _drop_overlaps(cand, self)

    def check_negative(self, k: tuple[int, int], r: tuple) -> None:
        m = self.m
        if m.nonnegative and r[0] < 0:
            how = "derived by differencing year-to-date figures" if r[2] else "reported"
            self.note(("negative", k), lambda: (
                f"{self.who}: {m.name} for {_iso(k[0])}..{_iso(k[1])} is negative "
                f"({r[0]:,.0f}, {how}, {', '.join(m.concepts[p] for p in r[4])}); {m.name} "
                "cannot be negative, so a component is probably restated or mis-scaled in the "
                "facts."))

    def check_aliases(self, state: dict[tuple[int, int], _Row]) -> None:
        """Quarters built from several concepts are only sound when those
        concepts agree wherever both were filed for one period."""
        m = self.m
        used = {p for r in state.values() for p in r[4]}
        if len(used) < 2:
            return
        for s, e in sorted(self.multi):
            slot = self.store[(s, e)]
            both = sorted(p for p in slot if p in used)
            if len(both) < 2:
                continue
            a, b = both[0], both[-1]
            va, vb = slot[a][0], slot[b][0]
            if abs(va - vb) > 1e-6 * max(abs(va), abs(vb), 1.0):
                if ("alias", a, b) not in self.found:
                    ex = next(k for k in sorted(state) if b in state[k][4])
                    self.found[("alias", a, b)] = (
                        f"{self.who}: {m.concepts[a]} and {m.concepts[b]} disagree for "
                        f"{_iso(s)}..{_iso(e)} ({va:,.0f} vs {vb:,.0f}) while {m.name} quarters "
                        f"use both (e.g. {_iso(ex[0])}..{_iso(ex[1])} rests on "
                        f"{m.concepts[b]}): such quarters may be off. Check the concept list in "
                        "ingest/concepts.py.")
                return


def _build(facts: pd.DataFrame, m: Metric, vintage: str, who: str) -> PitHistory:
    issues: list[str] = []
    rows = _select(facts, m, who, issues)
    rp = _Replay(m, vintage, who)
    prev: dict[tuple[int, int], _Row] = {}
    known: dict[tuple[int, int], int] = {}
    versions: list[list] = []  # start, end, value, filed, known, derived, prio, prios, from, to
    open_at: dict[tuple[int, int], int] = {}  # key -> index in versions
    trailing: list[tuple] = []
    last_trailing: tuple | None = None
    prio_a, start_a, end_a = rows.prio.tolist(), rows.start.tolist(), rows.end.tolist()
    val_a, filed_a, accn_a = rows.value.tolist(), rows.filed, rows.accn.tolist()
    bounds = (np.flatnonzero(np.r_[True, filed_a[1:] != filed_a[:-1], True]).tolist()
              if len(filed_a) else [])
    for b0, b1 in pairwise(bounds):
        day = int(filed_a[b0])
        for i in range(b0, b1):
            rp.add(prio_a[i], start_a[i], end_a[i], val_a[i], day, accn_a[i])
        state = rp.quarters()
        new_state: dict[tuple[int, int], _Row] = {}
        for k, r in state.items():
            if k not in known:  # first day the quarter (or one it replaced) was computable
                known[k] = min([day, *(known[o] for o in prev if o[0] <= k[1] and k[0] <= o[1])])
            new_state[k] = (*r, known[k])
        for k in prev.keys() - new_state.keys():
            versions[open_at.pop(k)][-1] = day
        for k, r in new_state.items():
            if prev.get(k) != r:
                if k in open_at:
                    versions[open_at[k]][-1] = day
                open_at[k] = len(versions)
                versions.append([k[0], k[1], r[0], r[1], r[5], r[2], r[3], r[4], day, None])
                rp.check_negative(k, r)
        prev = new_state
        t = _trailing(new_state, m)
        if m.kind == "flow":
            _check_ttm_gap(new_state, t, rp)
            rp.check_aliases(new_state)
        if t != last_trailing:
            trailing.append((day, t))
            last_trailing = t
    issues.extend(rp.found.values())
    return PitHistory(m.name, who, vintage, m.kind, _versions_frame(versions, m),
                      _trailing_frame(trailing, m), tuple(issues))


def _drop_overlaps(cand: dict[tuple[int, int], tuple], rp: _Replay
                   ) -> dict[tuple[int, int], tuple]:
    keys = sorted(cand)
    clusters: list[list[tuple[int, int]]] = []
    reach = None
    for k in keys:  # sweep: runs of mutually reachable overlapping quarters
        if reach is not None and k[0] <= reach:
            clusters[-1].append(k)
            reach = max(reach, k[1])
        else:
            clusters.append([k])
            reach = k[1]
    if len(clusters) == len(keys):
        return {k: cand[k] for k in keys}
    kept: list[tuple[int, int]] = []
    concepts = rp.m.concepts
    for cluster in clusters:
        if len(cluster) == 1:
            kept.append(cluster[0])
            continue
        # keep: reported over derived, then preferred concept, then newest filing
        chosen: list[tuple[int, int]] = []
        for k in sorted(cluster, key=lambda k: (cand[k][2], cand[k][3], -cand[k][1], k)):
            hit = next((o for o in chosen if o[0] <= k[1] and k[0] <= o[1]), None)
            if hit is None:
                chosen.append(k)
            else:
                rp.note(("overlap", k, hit), lambda k=k, hit=hit: (
                    f"{rp.who}: {rp.m.name} quarter {_iso(k[0])}..{_iso(k[1])} "
                    f"({concepts[cand[k][3]]}) overlaps quarter {_iso(hit[0])}..{_iso(hit[1])} "
                    f"({concepts[cand[hit][3]]}); the latter is kept. Period boundaries differ "
                    "between filings: check the fiscal calendar."))
        kept.extend(chosen)
    return {k: cand[k] for k in sorted(kept)}


def _check_ttm_gap(state: dict[tuple[int, int], _Row], t: tuple | None, rp: _Replay) -> None:
    """A TTM that ends before the latest known quarter is stale: name the gap."""
    if t is None or not state:
        return
    keys = sorted(k for k in state if k[1] > t[2])
    if not keys:
        return
    prev_end = t[2]
    for k in keys:
        if not 0 < k[0] - prev_end <= MAX_GAP_DAYS:
            break
        prev_end = k[1]
    m = rp.m
    nxt = min((k[0] for k in keys if k[0] > prev_end), default=keys[-1][0])
    rp.note(("stale", prev_end), lambda: (
        f"{rp.who}: no {m.name} quarter can be computed between {_iso(prev_end)} and "
        f"{_iso(nxt)} ({', '.join(m.concepts)} have no figure for it or for a year-to-date "
        f"component), so TTM figures stay at the four quarters ending {_iso(t[2])} while later "
        "quarters are known (column last_quarter_end tells)."))


def _trailing(state: dict[tuple[int, int], _Row], m: Metric) -> tuple | None:
    """(value, start, end, filed, known_since, prios, last_end) of the trailing figure."""
    if not state:
        return None
    keys = sorted(state, key=lambda k: k[1])
    last = keys[-1][1]
    if m.kind != "flow":
        r = state[keys[-1]]
        return (r[0], keys[-1][0], last, r[1], r[5], tuple(sorted(r[4])), last)
    for i in range(len(keys) - 1, 2, -1):
        win = keys[i - 3:i + 1]
        if all(0 < b[0] - a[1] <= MAX_GAP_DAYS for a, b in pairwise(win)):
            rs = [state[k] for k in win]
            value = ((rs[0][0] + rs[1][0]) + rs[2][0]) + rs[3][0]
            prios = tuple(sorted({p for r in rs for p in r[4]}))
            return (value, win[0][0], win[-1][1], max(r[1] for r in rs),
                    max(r[5] for r in rs), prios, last)
    return None


def _versions_frame(versions: list, m: Metric) -> pd.DataFrame:
    cols = ["period_start", "period_end", "value", "filed", "known_since", "derived",
            "concept", "concepts", "valid_from", "valid_to"]
    if not versions:
        out = pd.DataFrame({c: pd.Series(dtype="datetime64[ns]") for c in cols})
        return out.assign(value=pd.Series(dtype=float), derived=pd.Series(dtype=bool),
                          concept=pd.Series(dtype="str"), concepts=pd.Series(dtype="str"))[cols]
    a = list(zip(*versions, strict=True))
    valid_to = np.array([np.nan if x is None else x for x in a[9]], dtype=float)
    to = np.full(len(valid_to), np.datetime64("NaT"), dtype="datetime64[ns]")
    ok = ~np.isnan(valid_to)
    to[ok] = _to_ts(valid_to[ok].astype(np.int64)).to_numpy()
    return pd.DataFrame({
        "period_start": _to_ts(np.array(a[0])), "period_end": _to_ts(np.array(a[1])),
        "value": np.array(a[2], dtype=float), "filed": _to_ts(np.array(a[3])),
        "known_since": _to_ts(np.array(a[4])), "derived": np.array(a[5], dtype=bool),
        "concept": [m.concepts[p] for p in a[6]],
        "concepts": [",".join(m.concepts[p] for p in sorted(ps)) for ps in a[7]],
        "valid_from": _to_ts(np.array(a[8])), "valid_to": to,
    })


def _trailing_frame(trailing: list[tuple], m: Metric) -> pd.DataFrame:
    dates = ("period_start", "period_end", "filed", "known_since", "last_quarter_end", "as_of")
    if not trailing:
        return pd.DataFrame({"value": pd.Series(dtype=float),
                             **{c: pd.Series(dtype="datetime64[ns]") for c in dates},
                             "concepts": pd.Series(dtype="str")})[TRAILING_COLUMNS]
    none = (np.nan, None, None, None, None, (), None)
    a = list(zip(*[(day, *(t if t is not None else none)) for day, t in trailing], strict=True))

    def ts(col: tuple) -> np.ndarray:
        out = np.full(len(col), np.datetime64("NaT"), dtype="datetime64[ns]")
        ok = np.array([x is not None for x in col])
        if ok.any():
            out[ok] = _to_ts(np.array([x for x in col if x is not None])).to_numpy()
        return out

    return pd.DataFrame({
        "value": np.array(a[1], dtype=float), "period_start": ts(a[2]), "period_end": ts(a[3]),
        "filed": ts(a[4]), "known_since": ts(a[5]),
        "concepts": [",".join(m.concepts[p] for p in ps) for ps in a[6]],
        "last_quarter_end": ts(a[7]), "as_of": ts(a[0]),
    })[TRAILING_COLUMNS]


# --------------------------------------------------------------------------- quarterly tables
def rolling_ttm(q: pd.DataFrame) -> pd.DataFrame:
    """Trailing four quarters of a quarterly table, for every quarter that
    closes a run of four contiguous quarters (each starting 1-7 days after the
    previous one ends).

    Parameters
    ----------
    q
        ``period_start, period_end, value`` and optionally ``filed``,
        ``known_since``, sorted or not.

    Returns
    -------
    DataFrame with ``period_start`` (first quarter's start), ``period_end``,
    ``value`` (the sum, same unit) and, when ``q`` has them, ``filed`` and
    ``known_since`` (the latest of the four), one row per closing quarter.
    """
    cols = ["period_start", "period_end", "value"]
    extra = [c for c in ("filed", "known_since") if c in q.columns]
    if len(q) < 4:
        return pd.DataFrame(columns=cols + extra)
    q = q.sort_values("period_end")
    starts = pd.to_datetime(q["period_start"]).to_numpy(dtype="datetime64[ns]")
    ends = pd.to_datetime(q["period_end"]).to_numpy(dtype="datetime64[ns]")
    v = q["value"].to_numpy(dtype=float)
    gap = (starts[1:] - ends[:-1]) / np.timedelta64(1, "D")
    link = (gap > 0) & (gap <= MAX_GAP_DAYS)
    ok = link[:-2] & link[1:-1] & link[2:]  # windows ending at quarters 3..n-1
    total = ((v[:-3] + v[1:-2]) + v[2:-1]) + v[3:]
    out = pd.DataFrame({"period_start": starts[:-3][ok], "period_end": ends[3:][ok],
                        "value": total[ok]})
    for c in extra:
        d = pd.to_datetime(q[c]).to_numpy(dtype="datetime64[ns]")
        out[c] = np.maximum.reduce([d[:-3], d[1:-2], d[2:-1], d[3:]])[ok]
    return out.reset_index(drop=True)
