"""Market-wide compute at scale: PSY + run-up + regime over a synthetic universe.

The benchmark makes its own data: ``--symbols`` random walks of ``--years``
years of business days (one in ten with an explosive episode: a few months of
exponential growth, then a crash), a market index, and a universe file with
dated membership. It then measures, in one run:

1. a full computation of ``psy``, ``runup`` and ``regime`` in one process (the
   serial path: batches one after another) and on a Dask ``LocalCluster`` of
   2 single-threaded worker processes; the speed-up, the serial fraction it
   implies (Amdahl: ``T2 = T1 (s + (1 - s) / 2)``), the per-task cost, and
   what 16 and 64 cores would give from them;
2. one new day for every symbol: the incremental daily update, in
   milliseconds per symbol, the median of five runs on identical copies of
   the database (and the fastest), split into reading, updating each indicator and storing
   (and the weekly refit day's regime cost);
3. peak memory (RSS) of the driver and of each worker;
4. database bytes per symbol of the stored series (of 100 symbols), for the block layout in
   use and for the former one-value-per-row table, on SQLite and PostgreSQL;
5. equality: the cluster's stored series equal the serial ones, and the
   incremental update equals a full recomputation, on a sample of symbols;
6. the same full and incremental runs against a PostgreSQL server the
   benchmark starts itself (Debian's ``postgresql`` package), unless
   ``--no-postgres``.

``--quick`` runs 100 symbols for development. The price rows are written
with bulk inserts (the ingest path is measured by ``bench_ingest_large.py``).

    uv run python benchmarks/bench_scale.py --quick
    uv run python benchmarks/bench_scale.py            # 2,000 symbols x 25 years
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/db/pg_server.py starts PostgreSQL

NAMES = ["psy", "runup", "regime"]
#: Symbols whose stored series are measured in both layouts (bytes per symbol).
LAYOUT_SAMPLE = 100
#: Copies of the database the daily update runs on (the median is reported).
DAILY_RUNS = 5
ROLLING = {"vol_2y", "realised_vol"}


def make_prices(n: int, years: int, seed: int = 7) -> tuple[pd.DatetimeIndex, dict[str, np.ndarray]]:
    """Adjusted closes of ``n`` symbols and ``^GSPC`` (random walks; every tenth
    symbol with an explosive episode)."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(end="2024-12-30", periods=years * 252 + 1, name="date")  # a Monday
    t = len(days)
    out: dict[str, np.ndarray] = {}
    market = np.cumsum(rng.normal(0.0003, 0.011, t))
    out["^GSPC"] = 100 * np.exp(market)
    for i in range(n):
        r = rng.normal(0.0002, 0.02, t) + 0.6 * np.diff(market, prepend=0.0)
        if i % 10 == 0:
            a = int(rng.integers(t // 3, t - 200))
            length = int(rng.integers(60, 180))
            r[a:a + length] += 0.012  # explosive: ~1.2% a day
            r[a + length:a + length + 40] -= 0.02  # then a crash
        out[f"S{i:04d}"] = 20 * np.exp(np.cumsum(r))
    return days, out


def bulk_prices(url: str, days: pd.DatetimeIndex, closes: dict[str, np.ndarray],
                last: int | None = None, first: int = 0) -> None:
    """Insert rows ``first:last`` of every symbol in bulk (one transaction)."""
    from db.models import PriceBar
    from db.session import session_scope

    dates = [d.date() for d in days[first:last]]
    now = datetime.now(UTC)
    with session_scope(url) as s:
        for sym, px in closes.items():
            p = px[first:last]
            rows = [{"symbol": sym, "date": d, "open": v, "high": v, "low": v, "close": v,
                     "adj_close": v, "volume": 1000, "source": "file", "ingested_at": now}
                    for d, v in zip(dates, p.tolist(), strict=True)]
            for i in range(0, len(rows), 5000):
                s.execute(PriceBar.__table__.insert(), rows[i:i + 5000])


def universe_file(folder: Path, symbols: list[str], days: pd.DatetimeIndex) -> Path:
    """A universe CSV: every symbol a member from its first day; a few left and rejoined."""
    lines = ["symbol,name,cohort,joined,left"]
    for i, s in enumerate(symbols):
        cohort = "explosive_sim" if i % 10 == 0 else "random_walk"
        if i % 50 == 7:
            mid = days[len(days) // 2].date()
            lines.append(f"{s},Sim {s},{cohort},{days[0].date()},{mid}")
            lines.append(f"{s},Sim {s},{cohort},{days[len(days) // 2 + 60].date()},")
        else:
            lines.append(f"{s},Sim {s},{cohort},{days[0].date()},")
    path = folder / "sim.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def settings_for(url: str, ufile: Path, **dask: object):  # type: ignore[no-untyped-def]
    from bubblewatch.core.settings import Settings

    return Settings(database_url=url, universe={"symbols": ["^GSPC"], "file": str(ufile)},
                    dask=dask)


def prepare(url: str, ufile: Path, days: pd.DatetimeIndex, closes: dict[str, np.ndarray]) -> float:
    from bubblewatch.app.jobs import init_db

    t = time.perf_counter()
    init_db(settings_for(url, ufile))
    bulk_prices(url, days, closes, last=len(days) - 1)
    return time.perf_counter() - t


def compute(url: str, ufile: Path, full: bool, **dask: object) -> tuple[float, object]:
    from indicators.compute import run_compute

    t = time.perf_counter()
    rep = run_compute(settings_for(url, ufile, **dask), NAMES, full=full, show_progress=False)
    return time.perf_counter() - t, rep


def stored(url: str, keys: list[str]) -> dict:
    from db import repo
    from db.session import session_scope

    out = {}
    with session_scope(url) as s:
        for name in NAMES:
            for k in keys:
                runs = repo.latest_runs(s, name, k)
                out[(name, k)] = (repo.indicator_wide(s, name, k),
                                  runs[0].meta if runs else None)
    return out


def compare(a: dict, b: dict, rolling_rtol: float | None = None) -> tuple[int, float]:
    """(items that differ, largest relative difference of the rolling fields)."""
    bad, worst = 0, 0.0
    for item, (fa, ma) in a.items():
        fb, mb = b[item]
        if not fa.index.equals(fb.index) or list(fa.columns) != list(fb.columns) or ma != mb:
            bad += 1
            continue
        for c in fa.columns:
            x, y = fa[c].to_numpy(), fb[c].to_numpy()
            if np.array_equal(x, y, equal_nan=True):
                continue
            if rolling_rtol is not None and c in ROLLING:
                rel = float(np.nanmax(np.abs(x - y) / np.abs(y)))
                worst = max(worst, rel)
                if rel <= rolling_rtol:
                    continue
            bad += 1
    return bad, worst


def layout_bytes(url: str, sample: list[str], tmp: Path) -> dict[str, float]:
    """Bytes per symbol of the stored series of the ``sample`` symbols: the
    block table in use, and the same values in the former one-value-per-row
    table (schema of migration 0001: unique key and series index). A sample
    keeps the second layout's rows (about 21,000 per symbol) in memory."""
    import sqlalchemy as sa

    from db import blocks
    from db.session import get_engine

    n_symbols = len(sample)
    keys = ", ".join(f"'{k}'" for k in sample)  # generated names: S0000, S0001, ...
    eng = get_engine(url)
    with eng.connect() as c:
        blk = c.execute(sa.text("select indicator, key, params_hash, year, fields, data, "
                                f"computed_at from indicator_block where key in ({keys})")).all()
    dialect = eng.dialect.name
    tall_rows = []
    for ind, key, ph, _y, fields, data, at in blk:
        b = blocks.decode(data, fields.split(",") if fields else [])
        for i, f in enumerate(b.fields):
            v = b.values[i]
            ok = np.isfinite(v)
            for d, x in zip(b.days[ok].tolist(), v[ok].tolist(), strict=True):
                tall_rows.append((ind, key, ph, f, blocks.to_date(d).isoformat(), x, str(at)))
    tall_ddl = ("create table indicator_value (id integer primary key, indicator varchar(64) "
                "not null, key varchar(64) not null, params_hash varchar(16) not null, field "
                "varchar(64) not null, date date not null, value float not null, computed_at "
                "timestamp with time zone not null, unique (indicator, key, params_hash, field, "
                "date))")
    tall_idx = ("create index ix_indicator_value_series on indicator_value "
                "(indicator, key, field, date)")
    out: dict[str, float] = {"values_per_symbol": len(tall_rows) / n_symbols}
    if dialect == "sqlite":
        for name in ("tall", "blocks"):
            path = tmp / f"layout-{name}.sqlite"
            path.unlink(missing_ok=True)
            with sqlite3.connect(path) as c:
                if name == "tall":
                    c.execute(tall_ddl.replace("integer primary key", "integer primary key "
                                               "autoincrement"))
                    c.execute(tall_idx)
                    c.executemany("insert into indicator_value (indicator, key, params_hash, "
                                  "field, date, value, computed_at) values (?,?,?,?,?,?,?)",
                                  tall_rows)
                else:
                    c.execute(f"attach database '{url.removeprefix('sqlite:///')}' as src")
                    c.execute("create table indicator_block as select * from "
                              f"src.indicator_block where key in ({keys})")
                    c.execute("create unique index uq_b on indicator_block "
                              "(indicator, key, params_hash, year)")
                    c.commit()
                    c.execute("detach database src")
            with sqlite3.connect(path) as c:
                c.execute("vacuum")
            out[f"sqlite_{name}"] = path.stat().st_size / n_symbols
            path.unlink()
    else:
        with eng.begin() as c:
            c.execute(sa.text("drop table if exists indicator_value"))
            c.execute(sa.text(tall_ddl.replace("integer primary key", "serial primary key")))
            c.execute(sa.text(tall_idx))
            ins = sa.text("insert into indicator_value (indicator, key, params_hash, field, "
                          "date, value, computed_at) values (:i,:k,:h,:f,:d,:v,:t)")
            for i in range(0, len(tall_rows), 20000):
                c.execute(ins, [dict(zip("ikhfdvt", r, strict=True))
                                for r in tall_rows[i:i + 20000]])
            c.execute(sa.text("drop table if exists block_sample"))
            c.execute(sa.text("create table block_sample as select * from indicator_block "
                              f"where key in ({keys})"))
            c.execute(sa.text("create unique index uq_block_sample on block_sample "
                              "(indicator, key, params_hash, year)"))
        with eng.begin() as c:
            tall = c.execute(sa.text("select pg_total_relation_size('indicator_value')")).scalar()
            blk_b = c.execute(sa.text("select pg_total_relation_size('block_sample')")).scalar()
            c.execute(sa.text("drop table indicator_value"))
            c.execute(sa.text("drop table block_sample"))
        out["postgres_tall"] = tall / n_symbols
        out["postgres_blocks"] = blk_b / n_symbols
    return out


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM: reset on exec, unlike
    ``ru_maxrss``, which a spawned worker inherits from its parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker_rss(address: str) -> dict[str, float]:
    from distributed import Client

    def rss() -> float:
        return peak_rss_mib()

    with Client(address, set_as_default=False) as c:
        return {str(k): v for k, v in c.run(rss).items()}


def run_backend(label: str, url_of, clone, tmp: Path, ufile: Path, days, closes,
                symbols: list[str], sample: list[str], workers: list[int],
                results: dict) -> None:
    from distributed import LocalCluster

    from db.session import dispose_all
    from indicators.distributed import WORKER_ENV

    n = len(symbols)
    res: dict = {}
    times = {}
    urls = {}
    for w in workers:
        url = url_of(f"full{w}")
        urls[w] = url
        res[f"prepare_s_{w}"] = prepare(url, ufile, days, closes)
        if w == 1:
            t, rep = compute(url, ufile, True, in_process="always", batch_size=50)
            res["rss_driver_mib"] = peak_rss_mib()
        else:
            with LocalCluster(n_workers=w, threads_per_worker=1, processes=True,
                              dashboard_address=None, env=dict(WORKER_ENV)) as lc:
                t, rep = compute(url, ufile, True, address=lc.scheduler_address)
                res["rss_workers_mib"] = worker_rss(lc.scheduler_address)
        assert rep.ok, list(rep.errors.items())[:3]
        times[w] = t
        res[f"full_s_{w}_workers"] = t
        res[f"full_ms_per_symbol_{w}_workers"] = 1000 * t / n
        res[f"batches_{w}"] = rep.batches
        res[f"compute_cpu_s_{w}"] = sum(rep.seconds.values())
        dispose_all()
    if 1 in times and 2 in times:
        t1, t2 = times[1], times[2]
        s = max(0.0, min(1.0, 2 * t2 / t1 - 1))
        res["speedup_2"] = t1 / t2
        res["serial_fraction"] = s
        for cores in (16, 64):
            res[f"predicted_s_{cores}_cores"] = t1 * (s + (1 - s) / cores)
            res[f"predicted_speedup_{cores}"] = 1 / (s + (1 - s) / cores)
        res["equal_cluster_vs_serial"] = compare(stored(urls[1], sample), stored(urls[2], sample))
    # the daily update: one new day (a Tuesday: no weekly refit) for every symbol, run
    # on DAILY_RUNS identical copies of the database (the median is reported: a shared
    # machine's noise moves single runs by a fifth or more)
    url = urls[min(workers)]
    bulk_prices(url, days, closes, first=len(days) - 1)
    dispose_all()
    copies = [clone(url, f"daily{i}") for i in range(DAILY_RUNS - 1)] + [url]
    runs = []
    for u in copies:
        t, rep = compute(u, ufile, False, in_process="always", batch_size=200)
        assert rep.ok, list(rep.errors.items())[:3]
        runs.append((t, rep))
        dispose_all()
    times = sorted(t for t, _ in runs)
    t, rep = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    modes = pd.Series(rep.modes).value_counts().to_dict()
    res["daily_update_s"] = t
    res["daily_update_runs_s"] = times
    res["daily_update_ms_per_symbol"] = 1000 * t / n
    res["daily_update_fastest_ms_per_symbol"] = 1000 * times[0] / n
    res["daily_update_modes"] = modes
    parts = {k: 1000 * v / n for k, v in rep.seconds.items()}
    parts["store"] = 1000 * sum(rep.store_seconds.values()) / n
    parts["other"] = 1000 * t / n - sum(parts.values())
    res["daily_update_compute_ms_per_symbol"] = parts
    # the same day by a full recomputation: the incremental result must equal it
    full_url = url_of("check")
    prepare(full_url, ufile, days, closes)
    bulk_prices(full_url, days, closes, first=len(days) - 1)
    t_full, rep_full = compute(full_url, ufile, True, in_process="always", batch_size=50)
    res["full_recompute_s"] = t_full
    res["regime_full_ms_per_symbol"] = 1000 * rep_full.seconds.get("regime", 0.0) / n
    res["equal_incremental_vs_full"] = compare(stored(url, sample), stored(full_url, sample),
                                               rolling_rtol=1e-12)
    res["bytes_per_symbol"] = layout_bytes(url, symbols[:LAYOUT_SAMPLE], tmp)
    dispose_all()
    results[label] = res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="100 symbols")
    ap.add_argument("--symbols", type=int, default=2000, metavar="N",
                    help="synthetic symbols (default 2000)")
    ap.add_argument("--years", type=int, default=25, metavar="N",
                    help="years of business days per symbol (default 25)")
    ap.add_argument("--no-postgres", action="store_true",
                    help="SQLite only (no PostgreSQL server started)")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the results here")
    args = ap.parse_args()
    n = 100 if args.quick else args.symbols
    tmp = Path(tempfile.mkdtemp(prefix="bw-scale-"))
    os.environ.setdefault("BUBBLEWATCH_DATA_DIR", str(tmp / "data"))
    os.environ.setdefault("BUBBLEWATCH_CACHE_DIR", str(tmp / "cache"))
    days, closes = make_prices(n, args.years)
    symbols = [s for s in closes if s != "^GSPC"]
    ufile = universe_file(tmp, symbols, days)
    sample = symbols[:: max(1, n // 20)][:20] + ["^GSPC"]
    print(f"synthetic universe: {n} symbols x {len(days)} business days "
          f"({args.years} years); sample for equality: {len(sample)} symbols; temp {tmp}")
    results: dict = {"symbols": n, "days": len(days)}
    def sqlite_url(name: str) -> str:
        return f"sqlite:///{tmp / name}.sqlite"

    def sqlite_clone(url: str, name: str) -> str:
        shutil.copyfile(url.removeprefix("sqlite:///"), sqlite_url(name).removeprefix(
            "sqlite:///"))
        return sqlite_url(name)

    run_backend("sqlite", sqlite_url, sqlite_clone, tmp, ufile, days, closes, symbols, sample,
                [1, 2], results)
    if not args.no_postgres:
        from tests.db.pg_server import postgres_server

        with postgres_server() as base:
            import sqlalchemy as sa

            eng = sa.create_engine(base, isolation_level="AUTOCOMMIT")
            made: set[str] = set()

            def pg(name: str) -> str:
                if name not in made:
                    with eng.connect() as c:
                        c.execute(sa.text(f"create database bw_{name}"))
                    made.add(name)
                return base.rsplit("/", 1)[0] + f"/bw_{name}"

            def pg_clone(url: str, name: str) -> str:
                with eng.connect() as c:
                    c.execute(sa.text(f"create database bw_{name} template "
                                      f"{url.rsplit('/', 1)[1]}"))
                made.add(name)
                return base.rsplit("/", 1)[0] + f"/bw_{name}"

            run_backend("postgres", pg, pg_clone, tmp, ufile, days, closes, symbols, sample, [2],
                        results)
            from db.session import dispose_all

            dispose_all()
            eng.dispose()
    report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str))


def report(r: dict) -> None:
    n = r["symbols"]
    for label in ("sqlite", "postgres"):
        x = r.get(label)
        if not x:
            continue
        print(f"\n== {label}: {n} symbols")
        for w in (1, 2):
            if f"full_s_{w}_workers" in x:
                print(f"full compute (psy, runup, regime), {w} worker(s): "
                      f"{x[f'full_s_{w}_workers']:8.1f} s  "
                      f"({x[f'full_ms_per_symbol_{w}_workers']:.0f} ms per symbol, "
                      f"{x[f'batches_{w}']} batches)")
        if "speedup_2" in x:
            print(f"speed-up with 2 workers: {x['speedup_2']:.2f}x; serial fraction "
                  f"{x['serial_fraction']:.3f}; predicted {x['predicted_speedup_16']:.1f}x on 16 "
                  f"cores ({x['predicted_s_16_cores']:.0f} s), {x['predicted_speedup_64']:.1f}x "
                  f"on 64 ({x['predicted_s_64_cores']:.0f} s)")
            bad, _ = x["equal_cluster_vs_serial"]
            print(f"cluster vs serial on the sample: {'EQUAL' if bad == 0 else f'{bad} DIFFER'}")
        print(f"daily update (one new day, incremental; median of "
              f"{len(x['daily_update_runs_s'])} copies): {x['daily_update_s']:.2f} s = "
              f"{x['daily_update_ms_per_symbol']:.1f} ms per symbol, fastest "
              f"{x['daily_update_fastest_ms_per_symbol']:.1f} ms (runs: "
              + ", ".join(f"{v:.2f} s" for v in x["daily_update_runs_s"])
              + f"; items: {x['daily_update_modes']})")
        print("  per symbol: " + ", ".join(
            f"{k} {v:.2f} ms" for k, v in x["daily_update_compute_ms_per_symbol"].items())
              + " (reads: fingerprints, stored results, prices; store: one transaction)")
        print(f"  weekly refit day: regime in full, {x['regime_full_ms_per_symbol']:.0f} ms per "
              f"symbol; full recomputation of the three: {x['full_recompute_s']:.1f} s "
              f"({1000 * x['full_recompute_s'] / n:.0f} ms per symbol)")
        bad, worst = x["equal_incremental_vs_full"]
        print(f"incremental vs full recomputation on the sample: "
              f"{'EQUAL' if bad == 0 else f'{bad} DIFFER'} (rolling volatilities within "
              f"{worst:.1e} relative; everything else bit for bit)")
        if "rss_driver_mib" in x:
            print(f"peak memory: driver (serial run) {x['rss_driver_mib']:.0f} MiB")
        if "rss_workers_mib" in x:
            print("peak memory per worker: " + ", ".join(
                f"{v:.0f} MiB" for v in x["rss_workers_mib"].values()))
        b = x["bytes_per_symbol"]
        print(f"stored values per symbol: {b['values_per_symbol']:.0f}")
        for k in ("sqlite", "postgres"):
            if f"{k}_tall" in b:
                print(f"database bytes per symbol ({k}): one value per row {b[f'{k}_tall']:,.0f}"
                      f", yearly blocks {b[f'{k}_blocks']:,.0f} "
                      f"({b[f'{k}_tall'] / b[f'{k}_blocks']:.1f}x smaller)")


if __name__ == "__main__":
    main()
