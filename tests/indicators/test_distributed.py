"""The Dask path: a LocalCluster of two worker processes gives the serial
numbers; an unreachable scheduler fails fast; a killed worker's batch is run
again without duplicates; a bad symbol fails alone inside its batch."""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from distributed.diagnostics.plugin import WorkerPlugin
from sqlalchemy import text

from bubblewatch.core.errors import ClusterError
from db import repo
from db.session import get_engine, session_scope
from indicators.compute import run_compute
from tests.conftest import make_settings

SYMBOLS = ["NVDA", "CSCO", "^GSPC"]
NAMES = ["psy", "runup", "regime"]
OVERRIDES = {"psy": {"reps": 200}, "regime": {"em_iter": 30}}
#: A symbol whose prices make PSY fail (a constant series has no ADF statistic).
BAD = {"symbol": "FLAT", "name": "Flat Corp", "cohorts": ["test"]}


def _copy(src_url: str, dst: Path) -> str:
    with sqlite3.connect(src_url.removeprefix("sqlite:///")) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    return f"sqlite:///{dst}"


def _settings(url: str, **dask: Any):  # type: ignore[no-untyped-def]
    return make_settings(url, universe={"symbols": [*SYMBOLS, "FLAT"], "extra_instruments": [BAD]},
                         dask={"batch_size": 2, **dask})


def _with_bad_symbol(url: str) -> str:
    from bubblewatch.app.jobs import init_db

    init_db(_settings(url))
    idx = pd.bdate_range("2015-01-01", periods=900, name="date")
    flat = pd.DataFrame({c: 10.0 for c in ("open", "high", "low", "close", "adj_close")},
                        index=idx).assign(volume=100)
    with session_scope(url) as s:
        repo.upsert_bars(s, "FLAT", "file", flat)
    return url


def _stored(url: str) -> dict:
    out: dict = {}
    with session_scope(url) as s:
        for name in NAMES:
            for key in [*SYMBOLS, "FLAT"]:
                runs = repo.latest_runs(s, name, key)
                if runs:
                    out[(name, key)] = (repo.indicator_wide(s, name, key), runs[0].meta,
                                        repo.indicator_events(s, name, key))
        out["blocks"] = s.execute(text("select count(*) from indicator_block")).scalar()
    get_engine(url).dispose()
    return out


def _assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for item, value in want.items():
        if item == "blocks":
            assert got[item] == value
            continue
        (gf, gm, ge), (wf, wm, we) = got[item], value
        pd.testing.assert_frame_equal(gf, wf, check_exact=True, obj=str(item))
        assert gm == wm, item
        pd.testing.assert_frame_equal(ge, we, obj=str(item))


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """One LocalCluster of two single-threaded worker processes for the module."""
    from distributed import Client, LocalCluster

    from indicators.distributed import WORKER_ENV

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None, env=dict(WORKER_ENV)) as lc, \
            Client(lc, set_as_default=False) as client:
        yield lc, client


@pytest.fixture(scope="module")
def serial(seeded_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict]:
    """The serial, in-process run over the same universe: what the cluster must match."""
    url = _with_bad_symbol(_copy(seeded_db_url, tmp_path_factory.mktemp("serial") / "s.sqlite"))
    rep = run_compute(_settings(url, in_process="always"), NAMES, overrides=OVERRIDES,
                      show_progress=False)
    assert rep.cluster is None and rep.batches == 2
    return url, {"report": rep, "stored": _stored(url)}


def test_dask_local_cluster_equals_serial_and_bad_symbol_fails_alone(
        cluster: Any, serial: tuple[str, dict], seeded_db_url: str, tmp_path: Path) -> None:
    lc, _ = cluster
    url = _with_bad_symbol(_copy(seeded_db_url, tmp_path / "d.sqlite"))
    rep = run_compute(_settings(url, address=lc.scheduler_address), NAMES,
                      overrides=OVERRIDES, show_progress=False)
    assert rep.cluster == lc.scheduler_address and rep.batches == 2
    # FLAT shares its batch with ^GSPC: its PSY fails (named, with the reason), the rest is stored
    assert set(rep.errors) == {"psy/FLAT"} and "constant" in rep.errors["psy/FLAT"]
    assert rep.rows["runup/^GSPC"] > 0 and rep.rows["runup/FLAT"] > 0
    assert rep.errors == serial[1]["report"].errors
    _assert_same(_stored(url), serial[1]["stored"])


class KillOnce(WorkerPlugin):
    """Kills the worker process a moment after it starts a batch, once (a marker file)."""

    name = "kill-once"

    def __init__(self, marker: str, delay_s: float = 0.5) -> None:
        self.marker, self.delay_s = marker, delay_s

    def transition(self, key: Any, start: str, finish: str, **kwargs: Any) -> None:
        if finish != "executing" or "bubblewatch-batch" not in str(key):
            return
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(fd, str(key).encode())
        os.close(fd)
        threading.Timer(self.delay_s, os._exit, args=(1,)).start()


def test_a_killed_worker_batch_is_retried_without_duplicates(
        cluster: Any, serial: tuple[str, dict], seeded_db_url: str, tmp_path: Path) -> None:
    lc, client = cluster
    marker = tmp_path / "killed"
    client.register_plugin(KillOnce(str(marker)))
    try:
        url = _with_bad_symbol(_copy(seeded_db_url, tmp_path / "k.sqlite"))
        rep = run_compute(_settings(url, address=lc.scheduler_address), NAMES,
                          overrides=OVERRIDES, show_progress=False)
    finally:
        client.unregister_worker_plugin(KillOnce.name)
    assert marker.is_file()  # a worker died in the middle of a batch
    assert rep.errors == serial[1]["report"].errors  # ... and its batch completed elsewhere
    _assert_same(_stored(url), serial[1]["stored"])  # once, with the serial numbers


def test_an_unreachable_scheduler_fails_within_seconds(db_url: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    settings = make_settings(db_url, universe={"symbols": ["NVDA"]},
                             dask={"address": address, "connect_timeout_s": 2})
    outcome: dict[str, BaseException] = {}

    def attempt() -> None:
        try:
            run_compute(settings, ["psy"], show_progress=False)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome["error"] = exc

    t = threading.Thread(target=attempt, daemon=True)
    t.start()
    t.join(60)
    assert not t.is_alive(), "compute hung on an unreachable scheduler"
    err = outcome["error"]
    assert isinstance(err, ClusterError) and address in str(err)
    assert "BUBBLEWATCH_DASK__ADDRESS" in str(err)


def test_batches_are_sized_to_a_tenth_of_a_second() -> None:
    from indicators.batch import batch_size, make_batches

    assert batch_size(5000, 2, 0.02) == 500  # spread over the workers, at most 500
    assert batch_size(100, 2, 0.3) >= 1 and batch_size(100, 2, 0.001) >= 100
    assert make_batches(list("abcde"), 2) == [["a", "b"], ["c", "d"], ["e"]]
    assert np.sum([len(b) for b in make_batches(list(range(1001)), 250)]) == 1001
