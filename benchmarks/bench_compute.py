"""Benchmark: a full ``ingest --from-dir`` of ../shared/data plus ``compute``.

Run from the repository root::

    uv run python benchmarks/bench_compute.py [--only runup,regime,...] [--keep DIR]

Builds a fresh SQLite database in a temporary folder, loads the universe,
reference data, every price file and both companyfacts files, then runs every
registered indicator (``full=True``) and prints the wall-clock seconds per
indicator (and how much of it went into storing results), the values written
and the total. A second, incremental compute shows the daily cost. The target
is under two minutes for ingest + compute on a 2-core machine; load from
other processes skews timings, so the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("BUBBLEWATCH_SHARED_DATA", ROOT.parent / "shared" / "data"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated indicators (default: all)")
    ap.add_argument("--keep", type=Path, help="build the database in DIR and keep it")
    args = ap.parse_args()
    if not (SHARED / "prices").is_dir():
        print(f"shared data not found at {SHARED}", file=sys.stderr)
        return 2
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bw-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "bench.sqlite"
    if db.exists():
        db.unlink()

    from bubblewatch.app.jobs import ingest_from_dir, init_db
    from bubblewatch.core.settings import Settings
    from indicators.compute import run_compute

    settings = Settings(database_url=f"sqlite:///{db}", data_dir=folder)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; database {db}")
    t0 = time.perf_counter()
    init_db(settings)
    report = ingest_from_dir(settings, SHARED)
    t_ingest = time.perf_counter() - t0
    print(f"ingest --from-dir: {t_ingest:6.1f} s  ({report.total.inserted} rows, "
          f"{len(report.errors)} failed)")

    names = [n.strip() for n in args.only.split(",")] if args.only else None
    t1 = time.perf_counter()
    rep = run_compute(settings, names, full=True, show_progress=False)
    t_compute = time.perf_counter() - t1
    print(f"\n{'indicator':<18}{'seconds':>9}{'storing':>9}{'values':>10}{'keys':>6}")
    for name, sec in rep.seconds.items():
        items = [k for k in rep.rows if k.startswith(name + "/")]
        values = sum(rep.rows[k] for k in items)
        print(f"{name:<18}{sec:9.1f}{rep.store_seconds.get(name, 0.0):9.1f}{values:10d}"
              f"{len(items):6d}")
    print(f"{'compute total':<18}{t_compute:9.1f}{'':9}{rep.total_rows:10d}")
    for item, err in rep.errors.items():
        print(f"FAILED {item}: {err}")
    print(f"\ningest + compute: {t_ingest + t_compute:.1f} s "
          f"(load average now {os.getloadavg()[0]:.1f})")
    t2 = time.perf_counter()
    rep2 = run_compute(settings, names, show_progress=False)
    print(f"incremental re-run: {time.perf_counter() - t2:.1f} s, "
          f"{rep2.total_rows} values written")
    return 1 if rep.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
