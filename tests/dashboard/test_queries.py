"""db.queries on the seeded database (real prices and filings)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
import pytest

from db import queries as dq
from db import repo
from db.session import session_scope
from indicators import registry
from tests.conftest import SHARED_DATA, computed_settings, load_shared_prices
from tests.dashboard.testdata import PLANTED_WEBHOOK


def test_close_series_and_closes_since_match_the_files(dashboard_db):
    url, _ = dashboard_db
    csv = load_shared_prices("CSCO")["close"]
    with session_scope(url) as s:
        got = dq.close_series(s, "CSCO")
        wide = dq.closes_since(s, date(2026, 8, 1), ["NVDA", "CSCO"])
        assert dq.close_series(s, "NOPE").empty
    assert len(got) == len(csv) and got.index.equals(pd.DatetimeIndex(csv.index, name="date"))
    assert got.to_numpy() == pytest.approx(csv.to_numpy())
    assert list(wide.columns) == ["CSCO", "NVDA"] and wide.index.min() >= pd.Timestamp("2026-08-01")
    assert wide["NVDA"].iloc[-1] == pytest.approx(load_shared_prices("NVDA")["close"].iloc[-1])


def test_inventory_and_coverage(dashboard_db):
    url, _ = dashboard_db
    files = sorted(p.stem for p in (SHARED_DATA / "prices").glob("*.csv"))
    with session_scope(url) as s:
        inv = dq.data_inventory(s)
        cov = dq.price_coverage(s)
    assert inv["price_symbols"] == len(files) == len(cov)
    assert inv["price_rows"] == sum(len(load_shared_prices(f)) for f in files)
    assert inv["fact_companies"] == 2 and inv["reference_figures"] > 100
    assert inv["price_last_date"] == cov["last_date"].max()
    nvda = cov.set_index("symbol").loc["NVDA"]
    assert nvda["name"] == "NVIDIA" and nvda["first_date"] == date(1999, 1, 22)


def test_catalog_and_freshness(dashboard_db):
    url, _ = dashboard_db
    now = datetime(2026, 11, 29, 12, tzinfo=UTC)
    with session_scope(url) as s:
        cat = dq.indicator_catalog(s)
        fresh = dq.freshness(s, computed_settings(url).universe, now)
        hist = dq.run_history(s)
    row = cat[(cat["indicator"] == "psy") & (cat["key"] == "CSCO")].iloc[0]
    with session_scope(url) as s:
        stored = repo.indicator_wide(s, "psy", "CSCO")
    assert row["last_date"] == stored.index.max().date()
    meta = registry.get("psy").read_meta(row["meta"])  # the catalog carries the typed metadata
    assert meta.test is not None and meta.test.last_date == row["last_date"]
    # data age, not job age: computed today on prices that end 2026-08-21
    (ind,) = fresh.of("Indicators")
    assert ind.last_run is not None and ind.last_run.tzinfo is not None
    assert (ind.status, ind.newest, ind.behind) == ("stale", date(2026, 8, 21), 68)
    # the planted alert rows: states (evaluated), a failed delivery
    assert fresh.of("Alert evaluation")[0].newest == date(2026, 8, 21)
    assert fresh.of("Alert delivery")[0].status == "failed"
    assert hist["started_at"].is_monotonic_decreasing


def test_alert_tables_are_read_with_secrets_masked(dashboard_db):
    url, _ = dashboard_db
    with session_scope(url) as s:
        names = dq.alert_table_names(s)
        deliveries = dq.read_table(s, "alert_delivery")
        with pytest.raises(KeyError, match="db-upgrade"):
            dq.read_table(s, "alert_nothing")
    assert {"alert_event", "alert_state", "alert_delivery"} <= set(names)
    err = deliveries.set_index("delivery_key").loc["d2", "last_error"]
    assert PLANTED_WEBHOOK not in err and dq.MASK in err and err.startswith("HTTP 404 from")


def test_mask_secrets_by_column_and_value():
    df = pd.DataFrame({
        "password": ["hunter2", None], "webhook_env": ["DESK_HOOK", "X"],
        "note": ["see https://user:pw@example.org/x", "plain"],
        "cfg": [{"token": "abc", "channel": "#x"}, {}],
    })
    out = dq.mask_secrets(df)
    assert out.loc[0, "password"] == dq.MASK and pd.isna(out.loc[1, "password"])
    assert out["webhook_env"].tolist() == ["DESK_HOOK", "X"]  # names of variables are fine
    assert "pw@" not in out.loc[0, "note"] and out.loc[1, "note"] == "plain"
    assert out.loc[0, "cfg"] == {"token": dq.MASK, "channel": "#x"}
