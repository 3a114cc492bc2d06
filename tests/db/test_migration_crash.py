"""A migration killed at any moment leaves a database the next ``init`` completes.

The killer (:mod:`tests.db.migration_killer`) forks one process per empty
database and ends it with SIGKILL just before every second SQL statement of
the first upgrade (every third in the legacy mode) and just before its COMMIT,
then again at 20 times spread over the upgrade. Each database must then hold either nothing or the whole schema (the
upgrade is one transaction), and ``bubblewatch init`` must bring it to head.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text

import db.all_models  # noqa: F401  (every table in Base.metadata)
from bubblewatch.app.jobs import init_db
from bubblewatch.core.errors import DatabaseError
from db.base import Base
from db.migrate import current_revision, head_revision, upgrade
from db.session import get_engine
from tests.conftest import REPO_ROOT, make_settings
from tests.db.pg_server import postgres_server, readme_url

pytestmark = pytest.mark.slow

SCHEMA = set(Base.metadata.tables) | {"alembic_version"}
TIMED_POINTS = 20


def kill_migrations(job: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run the killer; its calibration report and one record per killed database."""
    out = subprocess.run([sys.executable, "-m", "tests.db.migration_killer"], cwd=REPO_ROOT,
                         input=json.dumps(job), capture_output=True, text=True, timeout=600,
                         check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert not [x for x in lines if "child_error" in x], lines
    return lines[0]["calibration"], [x for x in lines if "url" in x]


def tables(url: str) -> set[str]:
    return set(inspect(get_engine(url)).get_table_names())


def state_after_kill(url: str) -> str:
    """``empty`` or ``complete``; anything else is a half-made schema."""
    found = tables(url)
    if not found - {"alembic_version"} and current_revision(url) is None:
        return "empty"
    if found == SCHEMA and current_revision(url) == head_revision(url):
        return "complete"
    return f"partial: {sorted(found)} at revision {current_revision(url)}"


def assert_all_recover(records: list[dict[str, Any]]) -> dict[str, int]:
    """Every killed database is empty or complete, and the next upgrade (the
    whole of ``bubblewatch init`` for the first one) finishes it."""
    states: dict[str, int] = {}
    for i, rec in enumerate(records):
        state = state_after_kill(rec["url"])
        assert state in ("empty", "complete"), (rec, state)
        states[state] = states.get(state, 0) + 1
        if i == 0:
            assert init_db(make_settings(rec["url"]))["instruments"].written > 0
        else:
            upgrade(rec["url"])
        assert tables(rec["url"]) == SCHEMA, rec
        assert current_revision(rec["url"]) == head_revision(rec["url"])
        get_engine(rec["url"]).dispose()
    return states


# --------------------------------------------------------------------------- SQLite
def test_sqlite_upgrade_killed_before_every_statement_recovers(tmp_path: Path) -> None:
    measured, records = kill_migrations(
        {"mode": "statements", "every": 2, "template": f"sqlite:///{tmp_path}/k{{i}}.sqlite"})
    assert len(records) == len(range(1, measured["statements"] + 1, 2)) + 1 >= 30
    assert all(r["signal"] == 9 for r in records)  # each one really was killed
    states = assert_all_recover(records)
    assert states == {"empty": len(records)}  # nothing commits before the COMMIT
    for rec in records:
        with get_engine(rec["url"]).connect() as conn:
            assert conn.execute(text("PRAGMA integrity_check")).scalar_one() == "ok"


def test_sqlite_upgrade_killed_at_spread_times_recovers(tmp_path: Path) -> None:
    _, records = kill_migrations({"mode": "timed", "points": TIMED_POINTS,
                                  "template": f"sqlite:///{tmp_path}/t{{i}}.sqlite"})
    assert len(records) == TIMED_POINTS
    assert sum(r["signal"] == 9 for r in records) >= TIMED_POINTS // 2
    assert_all_recover(records)


def test_half_made_schema_of_earlier_versions_is_completed(tmp_path: Path) -> None:
    """Upgrades as bubblewatch ran them before (each CREATE TABLE committed on
    its own on SQLite) leave half-made schemas; the next upgrade completes them."""
    _, records = kill_migrations({"mode": "statements", "legacy": True, "every": 3,
                                  "template": f"sqlite:///{tmp_path}/l{{i}}.sqlite"})
    partial = [r for r in records if state_after_kill(r["url"]).startswith("partial")]
    assert len(partial) >= 10  # the failure this guards against is real
    for rec in records:
        upgrade(rec["url"])
        assert tables(rec["url"]) == SCHEMA
        assert current_revision(rec["url"]) == head_revision(rec["url"])


def test_leftover_tables_holding_rows_are_not_dropped(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/odd.sqlite"
    with get_engine(url).begin() as conn:
        conn.exec_driver_sql("CREATE TABLE ops_job_lock (name VARCHAR(64) PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO ops_job_lock VALUES ('mine')")
    with pytest.raises(DatabaseError, match=r"ops_job_lock: 1"):
        upgrade(url)
    with get_engine(url).connect() as conn:
        assert conn.exec_driver_sql("SELECT name FROM ops_job_lock").scalar_one() == "mine"


# --------------------------------------------------------------------------- PostgreSQL
@pytest.fixture(scope="module")
def pg_admin_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.mark.postgres
@pytest.mark.parametrize("mode", ["statements", "timed"])
def test_postgres_upgrade_killed_part_way_recovers(pg_admin_url: str, mode: str) -> None:
    """On the README's URL form (``postgresql://``, psycopg 3), one schema per
    kill point; before every fourth statement and the COMMIT, and at 20 spread
    times."""
    schema = f"bw_{mode}_{{i}}"
    _, records = kill_migrations({
        "mode": mode, "points": TIMED_POINTS, "every": 4, "schema": schema,
        "template": f"{readme_url(pg_admin_url)}?options=-csearch_path%3D{schema}",
    })
    assert records and all(r["url"].startswith("postgresql://") for r in records)
    assert sum(r["signal"] == 9 for r in records) >= len(records) // 2
    states = assert_all_recover(records)
    if mode == "statements":
        assert states == {"empty": len(records)}
