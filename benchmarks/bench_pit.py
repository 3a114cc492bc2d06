"""Benchmark: point-in-time TTM for every calendar day over 25 years.

Run from the repository root::

    uv run python benchmarks/bench_pit.py [--days N]

For NVIDIA and Alphabet (../shared/data/edgar), times :func:`ingest.pit.pit_ttm`
of revenue, net income and capex on every calendar day from 2001 to 2026
(one replay over the filings, carried forward), against the baseline of
recomputing the quarterly table on the facts filed by each day
(:func:`ingest.quarterly.ttm_series` on a filtered frame) for ``--days`` evenly
spaced days, scaled to the same number of days. Prints seconds and the ratio;
both answers are compared on the sampled days. Load from other processes
skews timings, so the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("BUBBLEWATCH_SHARED_DATA", ROOT.parent / "shared" / "data"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=40, help="days recomputed for the baseline")
    args = ap.parse_args()
    import numpy as np
    import pandas as pd

    from bubblewatch.core.errors import DataQualityWarning
    from ingest.companyfacts import load_json, parse_companyfacts
    from ingest.pit import pit_ttm
    from ingest.quarterly import ttm_series

    warnings.simplefilter("ignore", DataQualityWarning)
    days = pd.date_range("2001-01-01", "2026-06-30", freq="D")
    print(f"load average {os.getloadavg()[0]:.1f}; {len(days)} calendar days")
    for cik, sym in ((1045810, "NVDA"), (1652044, "GOOGL")):
        path = SHARED / "edgar" / f"CIK{cik:010d}.json"
        facts = pd.DataFrame(parse_companyfacts(load_json(path.read_bytes(), str(path)),
                                                str(path), symbol=sym))
        filed = pd.to_datetime(facts["filed"])
        sample = days[np.linspace(0, len(days) - 1, args.days).round().astype(int)]
        for quantity in ("revenue", "net_income", "capex"):
            t0 = time.perf_counter()
            layer = pit_ttm(facts.copy(), quantity, days)  # a fresh frame: no cache hit
            t_layer = time.perf_counter() - t0
            t0 = time.perf_counter()
            mismatches = 0
            for day in sample:
                rows = ttm_series(facts[filed <= day].copy(), quantity)
                base = rows["value"].iloc[-1] if len(rows) else np.nan
                got = layer.loc[day, "value"]
                mismatches += not (base == got or (np.isnan(base) and np.isnan(got)))
            t_base = (time.perf_counter() - t0) / len(sample) * len(days)
            print(f"{sym:5s} {quantity:10s} layer {t_layer:6.2f} s   per-day recomputation "
                  f"(scaled) {t_base:8.1f} s   ratio {t_base / t_layer:7.0f}x   "
                  f"sampled days that differ: {mismatches}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
