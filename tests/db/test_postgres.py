"""The same migrations and the same ingest on PostgreSQL give the same database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bubblewatch.app.jobs import ingest_from_dir, init_db
from db import repo
from db.migrate import current_revision, head_revision
from db.session import get_engine, session_scope
from tests.conftest import make_settings
from tests.db.pg_server import postgres_server

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url
        get_engine(url).dispose()


def test_migrations_from_empty_on_both_databases(pg_url: str, db_url: str) -> None:
    init_db(make_settings(pg_url))
    assert current_revision(pg_url) == head_revision(pg_url) == current_revision(db_url)
    pg_tables = set(inspect(get_engine(pg_url)).get_table_names())
    lite_tables = set(inspect(get_engine(db_url)).get_table_names())
    assert pg_tables == lite_tables and "market_price" in pg_tables


def test_ingest_counts_equal_sqlite(pg_url: str, seeded_db_url: str, shared_data: Path) -> None:
    settings = make_settings(pg_url)
    init_db(settings)
    first = ingest_from_dir(settings, shared_data)
    assert first.ok, first.errors
    again = ingest_from_dir(settings, shared_data)
    assert again.total.inserted == 0 and again.total.updated == 0
    with session_scope(pg_url) as pg, session_scope(seeded_db_url) as lite:
        assert repo.price_counts(pg) == repo.price_counts(lite)
        assert repo.fact_counts(pg) == repo.fact_counts(lite)
        assert len(repo.reference_frame(pg)) == len(repo.reference_frame(lite))
        nv_pg, nv_lite = repo.price_frame(pg, "NVDA"), repo.price_frame(lite, "NVDA")
    assert nv_pg.equals(nv_lite)


def test_lock_lease_on_postgres(pg_url: str) -> None:
    init_db(make_settings(pg_url))
    with session_scope(pg_url) as s:
        assert repo.acquire_lock(s, "t", "one", 60)
    with session_scope(pg_url) as s:
        assert not repo.acquire_lock(s, "t", "two", 60)
        assert repo.acquire_lock(s, "t", "one", 60)


def test_indicator_results_store_and_update_on_postgres(pg_url: str) -> None:
    import pandas as pd

    init_db(make_settings(pg_url))
    frame = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.to_datetime(["2024-01-02", "2024-01-03"]))
    for meta in ({"a": 1}, {"a": 1}, {"a": 2}):
        with session_scope(pg_url) as s:
            repo.store_indicator_result(s, indicator="t", key="K", params={"p": 1}, params_hash="h",
                                        frame=frame, events=[], meta=meta, as_of=None)
    with session_scope(pg_url) as s:
        (run,) = repo.latest_runs(s, "t")
        assert run.meta == {"a": 2} and run.rows == 2


def test_bulk_price_reads_equal_one_symbol_reads_on_postgres(pg_url: str,
                                                             shared_data: Path) -> None:
    from sqlalchemy import create_engine, text

    from tests.db.test_price_reads import add_second_source, check_bulk_reads

    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text("create database price_reads"))
    admin.dispose()
    url = pg_url.rsplit("/", 1)[0] + "/price_reads"
    settings = make_settings(url)
    init_db(settings)
    assert ingest_from_dir(settings, shared_data).ok
    add_second_source(url, "CSCO")
    check_bulk_reads(url, ["NVDA", "CSCO", "^GSPC"], "CSCO")
    get_engine(url).dispose()
