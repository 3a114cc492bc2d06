"""Shared test helpers.

Real data for tests lives in ``../shared/data`` beside the repository (never
copied into it). ``BUBBLEWATCH_SHARED_DATA`` overrides the location.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("BUBBLEWATCH_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def load_shared_prices(symbol: str) -> pd.DataFrame:
    """Daily bars from ``../shared/data/prices/<SYMBOL>.csv`` (``^IXIC`` -> ``IXIC.csv``),
    indexed by a ``DatetimeIndex`` named ``date``."""
    path = SHARED_DATA / "prices" / f"{symbol.lstrip('^')}.csv"
    df = pd.read_csv(path, parse_dates=["date"]).set_index("date")
    return df


@cache
def load_shared_facts(cik: int, symbol: str | None = None) -> pd.DataFrame:
    """Every fact of ``../shared/data/edgar/CIK##########.json`` as the long facts
    frame the indicators read (parsed once per session; do not mutate)."""
    from ingest.companyfacts import load_json, parse_companyfacts

    path = SHARED_DATA / "edgar" / f"CIK{cik:010d}.json"
    return pd.DataFrame(parse_companyfacts(load_json(path.read_bytes(), str(path)), str(path),
                                           symbol=symbol))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "prices").is_dir():
        raise RuntimeError(
            f"real test data not found at {SHARED_DATA}; place the shared/ folder beside the "
            "repository or set BUBBLEWATCH_SHARED_DATA"
        )
    return SHARED_DATA


#: Host names a test may resolve: the loopback interface only.
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "ip6-localhost"}


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in a test may reach the network: resolving any name but the
    loopback interface fails the test at once (live sources are tested
    against local servers)."""
    import socket

    real = socket.getaddrinfo

    def local_only(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name in LOCAL_HOSTS or name.startswith("127.") or name.endswith(".invalid"):
            return real(host, *args, **kwargs)
        raise OSError(f"test tried to resolve {name!r}: tests must not reach the network")

    monkeypatch.setattr(socket, "getaddrinfo", local_only)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the user's data folder, caches and config."""
    home = tmp_path_factory.getbasetemp() / "bw-home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("BUBBLEWATCH_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("BUBBLEWATCH_CACHE_DIR", str(home / "cache"))
    monkeypatch.delenv("BUBBLEWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("BUBBLEWATCH_CONFIG", raising=False)


def make_settings(database_url: str, **overrides):  # type: ignore[no-untyped-def]
    """Settings for a test database (environment and TOML still apply beneath)."""
    from bubblewatch.core.settings import Settings

    return Settings(database_url=database_url, **overrides)


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str,
               build: Callable[[Path], None]) -> Path:
    """``name`` built by ``build(path)`` once per test run, also when the run is
    spread over pytest-xdist workers: they share the run's base folder, the
    first to arrive builds under a file lock and marks the file done, the
    others wait and use it (read-only)."""
    from filelock import FileLock

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the base folder all workers of this run share
    path, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.exists():
            for leftover in root.glob(f"{name}*"):
                if leftover.suffix != ".lock":
                    leftover.unlink()
            build(path)
            done.touch()
    return path


@pytest.fixture(scope="session")
def seeded_db_url(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> str:
    """A migrated SQLite database holding the universe, every price file and
    both companyfacts files of ``../shared/data``, and the reference data.

    Shared by the whole session: tests that write must use ``seeded_db_copy``.
    """
    def build(path: Path) -> None:
        from bubblewatch.app.jobs import ingest_from_dir, init_db
        from db.session import get_engine

        url = f"sqlite:///{path}"
        settings = make_settings(url)
        init_db(settings)
        report = ingest_from_dir(settings, shared_data)
        assert report.ok, report.errors
        get_engine(url).dispose()

    return f"sqlite:///{built_once(tmp_path_factory, 'seeded.sqlite', build)}"


#: The universe the computed test database covers: the AI and dot-com bellwethers, one
#: hyperscaler with real SEC facts, and the indices. Baskets keep all their members.
COMPUTED_SYMBOLS = ("NVDA", "GOOGL", "AMD", "CSCO", "INTC", "^GSPC", "^IXIC")
#: Cheaper parameters for the computed test database (fewer replications, a shorter
#: LPPLS span and Trust resampling, monitors from 2005); everything else is the default run.
COMPUTED_OVERRIDES = {
    "psy": {"reps": 200},
    "psy_valuation": {"reps": 200},
    "lppls": {"span": 60, "step": 20, "trust_resamples": 2},
    "regime": {"em_iter": 30},
    "monitor_ps2020": {"reps": 19, "start": "2005-01-01"},
    "monitor_hb": {"start": "2005-01-01"},
    "monitor_ahltz": {"start": "2005-01-01"},
    "monitor_bd": {"start": "2005-01-01"},
    "cohort_psy": {"reps": 19},
    "track_record": {"start": "1999-01-01", "end": "2004-12-31", "ps2020_reps": 20,
                     "em_iter": 30, "regime_keys": [], "regime_refit_years": 5,
                     "mc_draws": 100},
}
#: The keys ``bubblewatch backtest`` replays in the computed test database.
COMPUTED_TRACK_KEYS = ("ai", "dotcom", "CSCO")


def computed_settings(database_url: str):  # type: ignore[no-untyped-def]
    """Settings of the computed test database (its restricted universe)."""
    return make_settings(database_url, universe={"symbols": list(COMPUTED_SYMBOLS)})


@pytest.fixture(scope="session")
def computed_db_url(seeded_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The seeded database after a real ``compute`` of every indicator (over
    :data:`COMPUTED_SYMBOLS`, with :data:`COMPUTED_OVERRIDES`) and a real
    ``backtest`` of :data:`COMPUTED_TRACK_KEYS`: what consumers of
    indicator results (dashboard, alerts, export) are tested on. Read-only:
    copy it before writing."""
    def build(dst: Path) -> None:
        import sqlite3

        from bubblewatch.app.backtest import run_backtest
        from db.session import get_engine
        from indicators.compute import run_compute
        from indicators.registry import get

        with sqlite3.connect(seeded_db_url.removeprefix("sqlite:///")) as a, \
                sqlite3.connect(dst) as b:
            a.backup(b)
        url = f"sqlite:///{dst}"
        report = run_compute(computed_settings(url), overrides=COMPUTED_OVERRIDES,
                             show_progress=False)
        assert report.ok, report.errors
        back = run_backtest(computed_settings(url),
                            get("track_record").parse_params(COMPUTED_OVERRIDES["track_record"]),
                            keys=COMPUTED_TRACK_KEYS, show_progress=False)
        assert not back.errors, back.errors
        get_engine(url).dispose()

    return f"sqlite:///{built_once(tmp_path_factory, 'computed.sqlite', build)}"


@pytest.fixture()
def seeded_db_copy(seeded_db_url: str, tmp_path: Path) -> str:
    """A private copy of the seeded database that a test may change."""
    import sqlite3

    src = seeded_db_url.removeprefix("sqlite:///")
    dst = tmp_path / "seeded-copy.sqlite"
    with sqlite3.connect(src) as s_conn, sqlite3.connect(dst) as d_conn:
        s_conn.backup(d_conn)
    return f"sqlite:///{dst}"


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    """An empty database migrated to head."""
    from db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'test.sqlite'}"
    upgrade(url)
    return url
