"""Data age against the trading calendar (db.freshness, bubblewatch.core.calendar).

Oracles: the NYSE's published 2026 holiday list and early closes (numpy's
business-day counter with those holidays gives the session counts), the SEC
filing deadlines (Form 10-Q 45 days, 10-K 90 days for non-accelerated filers),
and the real price files of ../shared/data.
"""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from bubblewatch.app.jobs import ingest_from_dir, init_db
from bubblewatch.core.calendar import format_time, sessions
from bubblewatch.core.errors import ConfigError
from db.alerts_models import AlertDelivery, AlertEvent, AlertState
from db.freshness import (
    DELIVERY,
    EVALUATION,
    FUNDAMENTALS,
    INDICATORS,
    PRICES,
    freshness_report,
    reports_overdue,
)
from db.models import IndicatorRun
from db.runlog import record_run
from db.session import session_scope
from tests.conftest import load_shared_prices, make_settings

#: NYSE holidays of 2026 as the exchange published them (Independence Day
#: observed on Friday 3 July; Juneteenth on a Friday).
NYSE_2026_HOLIDAYS = ["2026-01-01", "2026-01-19", "2026-02-16", "2026-04-03", "2026-05-25",
                      "2026-06-19", "2026-07-03", "2026-09-07", "2026-11-26", "2026-12-25"]


def oracle_sessions_after(start: str, end: str) -> int:
    """Weekdays after ``start`` up to ``end``, less the NYSE holidays."""
    one = np.timedelta64(1, "D")
    return int(np.busday_count(np.datetime64(start) + one, np.datetime64(end) + one,
                               holidays=NYSE_2026_HOLIDAYS))


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --------------------------------------------------------------------------- calendar
def test_sessions_agree_with_the_published_holidays() -> None:
    xnys = sessions("XNYS")
    days = np.arange(np.datetime64("2026-01-01"), np.datetime64("2027-01-01"))
    oracle = np.is_busday(days, holidays=NYSE_2026_HOLIDAYS)
    held = np.array([xnys.is_session(date.fromisoformat(str(d))) for d in days])
    assert (held == oracle).all()
    assert xnys.count_after(date(2026, 8, 21), date(2026, 11, 27)) == oracle_sessions_after(
        "2026-08-21", "2026-11-27") == 68  # Labor Day and Thanksgiving are not sessions


@pytest.mark.parametrize(("now", "expected"), [
    (utc(2026, 11, 29, 11), date(2026, 11, 27)),       # Sunday: Friday's session
    (utc(2026, 11, 30, 14), date(2026, 11, 27)),       # Monday, before the close
    (utc(2026, 11, 30, 21, 0), date(2026, 11, 30)),    # Monday at the 16:00 ET close
    (utc(2026, 11, 26, 20), date(2026, 11, 25)),       # Thanksgiving: no session
    (utc(2026, 11, 27, 17, 59), date(2026, 11, 25)),   # Friday after: closes early, 13:00 ET
    (utc(2026, 11, 27, 18, 0), date(2026, 11, 27)),
    (utc(2026, 12, 24, 18, 30), date(2026, 12, 24)),   # Christmas Eve: early close too
    (utc(2026, 7, 6, 12), date(2026, 7, 2)),           # 3 July observed for the 4th
])
def test_last_closed_session(now: datetime, expected: date) -> None:
    assert sessions("XNYS").last_closed(now) == expected


def test_unknown_exchange_is_named() -> None:
    with pytest.raises(ConfigError, match="unknown exchange 'XXYZ'.*XNYS"):
        sessions("XXYZ")


def test_times_carry_their_zone() -> None:
    t = utc(2026, 11, 30, 22, 30)
    assert format_time(t) == "2026-11-30 22:30 UTC"
    assert format_time(t, "America/New_York") == "2026-11-30 17:30 EST"
    assert format_time(utc(2026, 7, 1, 21), "America/New_York") == "2026-07-01 17:00 EDT"
    assert format_time(None) == "never"


# --------------------------------------------------------------------------- fundamentals
def test_reports_overdue_follow_the_sec_deadlines() -> None:
    # NVIDIA (fiscal year ends late January): the quarter to 26 April 2026 is held; the
    # next ends about 26 July, its 10-Q due 45 days later (about 9 September)
    n, expected, due = reports_overdue(date(2026, 4, 26), date(2026, 11, 29), fye_month=1)
    assert (n, expected) == (1, date(2026, 7, 26))
    # the following quarter's 10-Q (quarters are stepped at 365.25/4 days: a 52-week
    # year's 13-week quarters drift from that grid by a day or two)
    assert abs((due - (date(2026, 10, 25) + timedelta(days=45))).days) <= 2
    # Alphabet (calendar year): Q2 and Q3 2026 both overdue on 29 November
    assert reports_overdue(date(2026, 3, 31), date(2026, 11, 29), 12)[0] == 2
    # a fiscal year end gets the 10-K's 90 days: on 20 February the annual report on
    # December is not late (a 10-Q would have been, after 45 days)
    assert reports_overdue(date(2025, 9, 30), date(2026, 2, 20), 12)[0] == 0
    assert reports_overdue(date(2025, 9, 30), date(2026, 2, 20), 6)[0] == 1
    assert reports_overdue(date(2026, 9, 30), date(2026, 11, 1), 12) == (
        0, date(2026, 9, 30), date(2026, 12, 30) + timedelta(days=90))


# --------------------------------------------------------------------------- the report
SYMBOLS = ("NVDA", "GLW", "^GSPC")


@pytest.fixture()
def small_db(tmp_path: Path, shared_data: Path):  # type: ignore[no-untyped-def]
    """NVDA, GLW (its file ends 2026-05-15) and ^GSPC, last 300 rows each, and NVDA's
    companyfacts, loaded from a folder like a user's."""
    folder = tmp_path / "data"
    (folder / "prices").mkdir(parents=True)
    (folder / "edgar").mkdir()
    for sym in SYMBOLS:
        stem = sym.lstrip("^")
        lines = (shared_data / "prices" / f"{stem}.csv").read_text().splitlines()
        (folder / "prices" / f"{stem}.csv").write_text("\n".join([lines[0], *lines[-300:]]) + "\n")
    shutil.copy(shared_data / "edgar" / "CIK0001045810.json", folder / "edgar")
    settings = make_settings(f"sqlite:///{tmp_path / 'f.sqlite'}",
                             universe={"symbols": list(SYMBOLS)})
    init_db(settings)
    assert ingest_from_dir(settings, folder).ok
    return settings


def report_at(settings, now: datetime):  # type: ignore[no-untyped-def]
    with session_scope(settings.resolved_database_url) as s:
        return freshness_report(s, settings.universe, now)


def test_prices_on_the_day_after_the_files_are_current(small_db) -> None:  # type: ignore[no-untyped-def]
    newest = load_shared_prices("NVDA").index.max().date()
    assert newest == date(2026, 8, 21)  # a Friday
    r = report_at(small_db, utc(2026, 8, 23, 12))  # Sunday
    (prices,) = r.of(PRICES)
    assert (prices.scope, prices.newest, prices.expected, prices.behind) == (
        "XNYS", newest, newest, 0)
    # GLW's file ends in May: the exchange is current, that symbol is not
    assert prices.status == "partial" and "GLW 2026-05-15" in prices.detail
    glw = next(s for s in r.symbols if s.symbol == "GLW")
    assert glw.status == "stale" and glw.behind == oracle_sessions_after("2026-05-15",
                                                                          "2026-08-21")
    # one session behind (Monday evening, before the daily run) is still not stale
    assert report_at(small_db, utc(2026, 8, 24, 22)).of(PRICES)[0].behind == 1
    assert report_at(small_db, utc(2026, 8, 24, 22)).of(PRICES)[0].status == "partial"


def test_old_prices_are_stale_by_trading_sessions(small_db) -> None:  # type: ignore[no-untyped-def]
    r = report_at(small_db, utc(2026, 11, 29, 11, 23))
    (prices,) = r.of(PRICES)
    assert prices.status == "stale"
    assert prices.behind == oracle_sessions_after("2026-08-21", "2026-11-27") == 68
    assert prices.behind_text == "68 sessions" and prices.expected == date(2026, 11, 27)
    assert "68 sessions behind 2026-11-27" in r.problems()[0]
    # not the 70 business days a weekday count gives
    assert int(np.busday_count("2026-08-22", "2026-11-28")) == 70


def test_fundamentals_per_company_and_folded(small_db) -> None:  # type: ignore[no-untyped-def]
    r = report_at(small_db, utc(2026, 11, 29, 12))
    rows = {f.scope: f for f in r.of(FUNDAMENTALS)}
    assert set(rows) == {"NVDA", "GLW"}  # the companies with a CIK
    assert rows["NVDA"].newest == date(2026, 4, 26)  # the 10-Q of May 2026
    assert (rows["NVDA"].status, rows["NVDA"].behind) == ("stale", 1)
    assert rows["GLW"].status == "missing" and rows["GLW"].last_run is None
    folded = next(f for f in r.summary if f.source == FUNDAMENTALS)
    assert folded.status == "stale"
    assert "1 of 2 companies loaded" in folded.detail and "never loaded: GLW" in folded.detail
    # in June the May 10-Q is the newest due: current
    june = report_at(small_db, utc(2026, 6, 20, 12))
    assert next(f for f in june.of(FUNDAMENTALS) if f.scope == "NVDA").status == "ok"


def test_indicators_and_alerts_never_evaluated_are_not_ok(small_db) -> None:  # type: ignore[no-untyped-def]
    r = report_at(small_db, utc(2026, 8, 24, 12))
    (ind,), (ev,), (dl,) = r.of(INDICATORS), r.of(EVALUATION), r.of(DELIVERY)
    assert ind.status == "missing" and ind.detail.startswith("never computed")
    assert ev.status == "never" and "never evaluated" in ev.detail
    assert dl.status == "never"
    assert not r.ok and any("alert evaluation never" in p for p in r.problems())


def _store_run_and_states(url: str, last_date: date, as_of: date) -> None:
    with record_run(url, "compute") as rec:
        rec.ok("psy/NVDA", 10)
    with session_scope(url) as s:
        s.add(IndicatorRun(indicator="psy", key="NVDA", params_hash="x", params={},
                           as_of=last_date, first_date=date(2020, 1, 2), last_date=last_date,
                           rows=10, meta={}))
    with record_run(url, "alerts_evaluate") as rec:
        rec.ok("rule/NVDA", 0)
    with session_scope(url) as s:
        s.add(AlertState(rule_id="rule", key="NVDA", rule_hash="h", condition="off",
                         as_of=as_of, value=1.0))


def test_evaluated_alerts_and_deliveries(small_db) -> None:  # type: ignore[no-untyped-def]
    url = small_db.resolved_database_url
    _store_run_and_states(url, date(2026, 8, 21), date(2026, 8, 21))
    now = utc(2026, 8, 24, 12)
    r = report_at(small_db, now)
    assert r.of(INDICATORS)[0].status == "ok" and r.of(EVALUATION)[0].status == "ok"
    assert r.of(DELIVERY)[0].status == "ok"
    assert "nothing queued" in r.of(DELIVERY)[0].detail
    # months later the same evaluation is stale, with its age in sessions
    late = report_at(small_db, utc(2026, 11, 29, 12)).of(EVALUATION)[0]
    assert (late.status, late.behind) == ("stale", 68)
    # a delivery due for an hour: nothing is sending; a failed one: failed
    with session_scope(url) as s:
        event = AlertEvent(dedupe_key="e1", rule_id="rule", key="NVDA", indicator="psy",
                           rule_type="above", severity="info", as_of=date(2026, 8, 21),
                           condition="on", title="t", explanation="x")
        s.add(event)
        s.flush()
        s.execute(AlertDelivery.__table__.insert(), [
            {"delivery_key": "k1", "event_id": event.id, "subscriber": "a", "channel": "email",
             "target": "a@example.org", "status": "pending", "attempts": 0,
             "next_attempt_at": now - timedelta(hours=1), "created_at": now}])
    dl = report_at(small_db, now).of(DELIVERY)[0]
    assert (dl.status, dl.behind, dl.unit) == ("stale", 60, "minutes")
    assert "scheduler running" in dl.detail
    with session_scope(url) as s:
        s.execute(AlertDelivery.__table__.update().values(status="failed",
                                                          last_error="HTTP 500"))
    dl = report_at(small_db, now).of(DELIVERY)[0]
    assert dl.status == "failed" and "HTTP 500" in dl.detail


def test_a_failed_refresh_is_named(small_db) -> None:  # type: ignore[no-untyped-def]
    url = small_db.resolved_database_url
    with pytest.raises(RuntimeError), record_run(url, "ingest_prices"):
        raise RuntimeError("cannot reach Yahoo Finance")
    prices = report_at(small_db, utc(2026, 11, 29, 12)).of(PRICES)[0]
    assert prices.status == "failed" and "cannot reach Yahoo Finance" in prices.detail
    assert prices.last_error is not None and prices.last_run is not None  # the folder load
