"""Benchmark: ``ingest --from-dir`` of one 1,000,000-row price CSV.

Run from the repository root::

    uv run python benchmarks/bench_ingest_large.py [--rows N] [--baseline REV | --no-baseline]

Writes a valid daily price file (``NVDA.csv``: a random walk with consistent
open/high/low/close and whole volumes) to a temporary folder and loads it
into a fresh SQLite database twice (the second load finds every row already
stored), each load in its own process, printing wall seconds and peak
resident memory (``resource.getrusage``: the process's maximum RSS, and its
RSS after the imports, so the difference is what the ingest itself held).

The same file goes through the previous code path too: the tree of commit
``--baseline`` (by default :data:`BASELINE`, the last commit that read a
price file whole) is exported with ``git archive`` to a temporary folder and
run the same way, so both numbers come from this machine in this run; the
ratios are printed. A million consecutive days run to the year 4638, past
today, which the current validation rejects, so the current path runs with
``PriceLimits(latest=date(9999, 12, 31))``; every other rule applies.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: The last commit whose ingest read a price file whole (pandas, one frame).
BASELINE = "81fb6f6"


def write_csv(path: Path, rows: int, seed: int = 7) -> None:
    """A valid daily price file of ``rows`` consecutive days from 1900-01-01."""
    rng = np.random.default_rng(seed)
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.0005, rows)))
    open_ = close * np.exp(rng.normal(0.0, 0.002, rows))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.01, rows))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.01, rows))
    volume = rng.integers(1_000, 50_000_000, rows)
    dates = np.datetime64("1900-01-01") + np.arange(rows)
    with path.open("w") as fh:
        fh.write("date,open,high,low,close,adj_close,volume\n")
        step = 100_000
        for i in range(0, rows, step):
            sl = slice(i, i + step)
            fh.writelines(
                f"{d},{o:.6f},{h:.6f},{lo:.6f},{c:.6f},{c:.6f},{v}\n"
                for d, o, h, lo, c, v in zip(dates[sl].astype(str), open_[sl], high[sl],
                                             low[sl], close[sl], volume[sl], strict=True)
            )


def child(tree: Path, folder: Path, db: Path) -> None:
    """Run inside a fresh process: one ingest of ``folder`` with the code of ``tree``."""
    sys.path.insert(0, str(tree))
    os.environ["BUBBLEWATCH_DATA_DIR"] = str(db.parent / "data")
    from datetime import date

    import ingest
    from bubblewatch.app.jobs import ingest_from_dir
    from bubblewatch.core.settings import Settings
    from db.migrate import upgrade

    if Path(ingest.__file__).resolve().parents[1] != tree.resolve():
        raise RuntimeError(f"imported {ingest.__file__}, not the code of {tree}")
    kwargs = {}
    if "limits" in inspect.signature(ingest_from_dir).parameters:
        from ingest.models import PriceLimits

        kwargs["limits"] = PriceLimits(latest=date(9999, 12, 31))
    settings = Settings(database_url=f"sqlite:///{db}")
    upgrade(settings.resolved_database_url)
    out = {"rss_after_imports_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    t0 = time.perf_counter()
    report = ingest_from_dir(settings, folder, **kwargs)
    out["seconds"] = time.perf_counter() - t0
    out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["counts"] = [report.total.inserted, report.total.updated, report.total.unchanged]
    out["errors"] = list(report.errors.values())
    print("RESULT " + json.dumps(out))


def measure(tree: Path, folder: Path, db: Path) -> dict:
    """A first load into the empty ``db`` and a second one of the same file."""
    out = {}
    for run in ("first", "again"):
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(tree), str(folder), str(db)],
            capture_output=True, text=True, cwd=tree, check=False,
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if not lines:
            raise RuntimeError(f"run in {tree} failed (exit {proc.returncode}):\n"
                               f"{proc.stderr[-3000:]}")
        out[run] = json.loads(lines[-1][len("RESULT "):])
    return out


def export(rev: str, into: Path) -> Path:
    archive = into / "baseline.tar"
    with archive.open("wb") as fh:
        subprocess.run(["git", "archive", rev], cwd=ROOT, stdout=fh, check=True)
    tree = into / "baseline"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def report(label: str, r: dict) -> None:
    for run in ("first", "again"):
        x = r[run]
        ins, upd, same = x["counts"]
        errors = "; ".join(x["errors"]) or "none"
        print(f"{label:<9}{run:<7}{x['seconds']:8.1f} s {x['rss_mb']:7.0f} MB peak RSS "
              f"({x['rss_mb'] - x['rss_after_imports_mb']:5.0f} MB above the "
              f"{x['rss_after_imports_mb']:.0f} MB after imports)  "
              f"{ins} new, {upd} updated, {same} unchanged; errors: {errors[:300]}")


def _held(x: dict) -> float:
    return max(x["rss_mb"] - x["rss_after_imports_mb"], 1.0)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--baseline", default=BASELINE, help="git revision of the previous path")
    ap.add_argument("--no-baseline", action="store_true", help="measure the current path only")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*(Path(p) for p in args.child))
        return 0
    with tempfile.TemporaryDirectory(prefix="bw-bench-ingest-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "in" / "prices").mkdir(parents=True)
        csv = tmp / "in" / "prices" / "NVDA.csv"
        t0 = time.perf_counter()
        write_csv(csv, args.rows)
        print(f"{args.rows} rows, {csv.stat().st_size / 1e6:.0f} MB written in "
              f"{time.perf_counter() - t0:.1f} s; load average {os.getloadavg()[0]:.1f} on "
              f"{os.cpu_count()} cores")
        results = {}
        if not args.no_baseline:
            tree = export(args.baseline, tmp)
            results["previous"] = measure(tree, tmp / "in", tmp / "previous.sqlite")
            report("previous", results["previous"])
        results["current"] = measure(ROOT, tmp / "in", tmp / "current.sqlite")
        report("current", results["current"])
        if "previous" in results:
            p, c = results["previous"], results["current"]
            for run in ("first", "again"):
                print(f"current / previous, {run} load: {c[run]['seconds'] / p[run]['seconds']:.2f}x "
                      f"the time, {c[run]['rss_mb'] / p[run]['rss_mb']:.2f}x the peak RSS, "
                      f"{_held(c[run]) / _held(p[run]):.2f}x the memory above imports")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
