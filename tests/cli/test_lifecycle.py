"""Stopping and starting the service: real ``bubblewatch schedule`` and ``up``
processes stopped with SIGTERM, SIGINT and SIGKILL, then started again at once;
the lease of a dead owner; run-log rows of killed jobs."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from bubblewatch.app.scheduler import LEASE_S, Lease
from db import repo
from db.models import JobLock, RunLog
from db.runlog import INTERRUPTED, close_stale_runs, process_gone, record_run, this_process
from db.session import session_scope

#: Generous bound for a process start on a busy machine (imports, migrations,
#: Streamlit); the tests never assert on durations.
START_S = 240.0


def wait_for(what: str, check: Callable[[], object], proc: subprocess.Popen | None = None,
             timeout: float = START_S) -> object:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            _out, err = proc.communicate()
            raise AssertionError(f"process ended ({proc.returncode}) before {what}:\n{err}")
        time.sleep(0.2)
    raise AssertionError(f"no {what} after {timeout:.0f} s")


def lease_owner(path: Path) -> str | None:
    with sqlite3.connect(path) as conn:
        row = conn.execute("SELECT owner FROM ops_job_lock WHERE name = 'scheduler'").fetchone()
    return row[0] if row else None


def start(args: list[str], path: Path, cwd: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bubblewatch", *args], cwd=cwd, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "BUBBLEWATCH_DATABASE_URL": f"sqlite:///{path}", "COLUMNS": "200",
             **env},
    )


def holds_lease(proc: subprocess.Popen[str], path: Path) -> str:
    """Wait until ``proc`` holds the scheduler lease; its owner string."""
    owner = wait_for(f"lease held by pid {proc.pid}",
                     lambda: (lease_owner(path) or "").split(":")[1:2] == [str(proc.pid)]
                     and lease_owner(path), proc)
    return str(owner)


def stop(proc: subprocess.Popen[str], sig: int) -> tuple[int, str, str]:
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


@pytest.fixture()
def db_path(tmp_path: Path) -> Path:
    from db.migrate import upgrade

    path = tmp_path / "life.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


# --------------------------------------------------------------------------- schedule
@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopped_scheduler_releases_its_lease_and_a_restart_starts(
        db_path: Path, tmp_path: Path, sig: int) -> None:
    first = start(["schedule"], db_path, tmp_path)
    holds_lease(first, db_path)
    code, _, err = stop(first, sig)
    assert code == 0, err
    assert "Traceback" not in err and "lease released" in err
    assert lease_owner(db_path) is None
    second = start(["schedule"], db_path, tmp_path)  # at once: no 120 s wait
    try:
        holds_lease(second, db_path)
    finally:
        code, _, err = stop(second, signal.SIGTERM)
    assert code == 0 and "Traceback" not in err, err


@pytest.mark.slow
def test_lease_of_a_killed_scheduler_is_taken_over_at_once(db_path: Path, tmp_path: Path) -> None:
    first = start(["schedule"], db_path, tmp_path)
    dead_owner = holds_lease(first, db_path)
    first.kill()
    first.communicate()
    with sqlite3.connect(db_path) as conn:  # no expiry can explain a takeover now
        conn.execute("UPDATE ops_job_lock SET expires_at = ?",
                     ((datetime.now(UTC) + timedelta(days=1)).isoformat(" "),))
    assert lease_owner(db_path) == dead_owner
    second = start(["schedule"], db_path, tmp_path)
    try:
        assert holds_lease(second, db_path) != dead_owner
    finally:
        code, _, err = stop(second, signal.SIGTERM)
    assert code == 0 and "taking over the scheduler lease" in err, err


@pytest.mark.slow
def test_a_start_with_a_bad_cron_leaves_no_lease(db_path: Path, tmp_path: Path) -> None:
    bad = start(["schedule"], db_path, tmp_path, BUBBLEWATCH_SCHEDULER__PRICES_CRON="30 25 * * *")
    _out, err = bad.communicate(timeout=120)
    assert bad.returncode == 1
    assert "Traceback" not in err
    assert err.strip().startswith("error: invalid settings") and len(err.strip().splitlines()) == 1
    assert "BUBBLEWATCH_SCHEDULER__PRICES_CRON" in err and "'30 25 * * *'" in err
    assert lease_owner(db_path) is None
    good = start(["schedule"], db_path, tmp_path)
    try:
        holds_lease(good, db_path)
    finally:
        stop(good, signal.SIGTERM)


# --------------------------------------------------------------------------- up
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dashboard_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_up_stops_dashboard_and_scheduler_and_starts_again(
        db_path: Path, tmp_path: Path, sig: int) -> None:
    port = free_port()
    for round_ in (1, 2):
        # --no-backfill: the empty database is served as it is (no live source is asked;
        # tests/cli/test_up.py covers the backfill)
        proc = start(["up", "--no-backfill"], db_path, tmp_path,
                     BUBBLEWATCH_DASHBOARD__PORT=str(port))
        try:
            holds_lease(proc, db_path)
            wait_for("dashboard health", lambda: dashboard_answers(port), proc)
        except BaseException:
            proc.kill()
            raise
        code, _out, err = stop(proc, sig if round_ == 1 else signal.SIGTERM)
        assert code == 0, err
        assert "Traceback" not in err and "lease released" in err
        assert lease_owner(db_path) is None
        assert not dashboard_answers(port)
        with socket.socket() as s:  # nobody listens there any more: the server is gone
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is fine
            s.bind(("127.0.0.1", port))
            s.listen()


# --------------------------------------------------------------------------- lease rules
def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def owner(pid: int, token: str = "deadbeef", host: str | None = None,
          namespace: str | None = None) -> str:
    """An owner string as :func:`this_process` writes them, plus a lease part."""
    me_host, _, tail = this_process().split(":")
    me_ns = tail.split(".")[0]
    return f"{host or me_host}:{pid}:{namespace or me_ns}.{token}:lease"


def test_lease_of_a_gone_process_on_this_host_is_taken_at_once(db_url: str) -> None:
    gone = owner(dead_pid())
    with session_scope(db_url) as s:
        assert repo.acquire_lock(s, "scheduler", gone, LEASE_S)
    assert process_gone(gone) is True
    new = Lease(db_url)
    assert new.acquire() and new.holder() == new.owner


def test_lease_of_a_live_or_remote_owner_is_kept(db_url: str) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = dead_pid()
    try:
        for held_by in (owner(sleeper.pid), owner(dead, host="elsewhere"),
                        owner(dead, namespace="4026599999")):  # another container: unknown
            with session_scope(db_url) as s:
                s.execute(delete(JobLock))
                assert repo.acquire_lock(s, "scheduler", held_by, LEASE_S)
            assert not Lease(db_url).acquire(), held_by
    finally:
        sleeper.kill()
        sleeper.wait()


def test_an_earlier_process_with_this_pid_counts_as_gone() -> None:
    """After a container restart the new scheduler may get the old one's pid."""
    pid = os.getpid()
    mine = this_process().rsplit(".", 1)[1]
    assert process_gone(owner(pid, mine)) is False
    assert process_gone(owner(pid, "00000000")) is True
    assert process_gone(owner(pid, mine, host="otherhost")) is None
    assert process_gone(this_process()) is False


# --------------------------------------------------------------------------- run log
KILLED_JOB = """
import os, signal, sys
from db.runlog import record_run
with record_run(sys.argv[1], "compute"):
    os.kill(os.getpid(), signal.SIGKILL)
"""


def runs(url: str) -> list[tuple[str, str | None]]:
    with session_scope(url) as s:
        return [(r.status, r.error) for r in s.scalars(select(RunLog).order_by(RunLog.id))]


def test_rows_of_killed_jobs_are_closed_as_interrupted(db_url: str) -> None:
    from tests.conftest import REPO_ROOT

    killed = subprocess.run([sys.executable, "-c", KILLED_JOB, db_url], cwd=REPO_ROOT,
                            check=False)
    assert killed.returncode == -signal.SIGKILL
    assert [s for s, _ in runs(db_url)] == ["running"]
    with record_run(db_url, "ingest_prices") as rec:  # the next run closes it
        rec.ok("NVDA", 1)
        assert [s for s, _ in runs(db_url)] == [INTERRUPTED, "running"]  # ours stays open
        assert close_stale_runs(db_url) == 0
    (status, error), (mine, _) = runs(db_url)
    assert status == INTERRUPTED and "ended before the run finished" in (error or "")
    assert mine == "ok"


def test_rows_of_unknown_owners_close_only_when_old(db_url: str) -> None:
    now = datetime.now(UTC)
    with session_scope(db_url) as s:
        for started, held_by in ((now - timedelta(hours=30), owner(5, host="elsewhere")),
                                 (now - timedelta(hours=1), owner(6, host="elsewhere")),
                                 (now - timedelta(hours=30), None)):
            run_id = repo.start_run(s, "compute")
            run = s.get(RunLog, run_id)
            run.started_at = started
            run.detail = {"owner": held_by} if held_by else {}
    assert close_stale_runs(db_url, now) == 2
    assert [s for s, _ in runs(db_url)] == [INTERRUPTED, "running", INTERRUPTED]
