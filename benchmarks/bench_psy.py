"""Benchmark of the PSY engine against pyexuber (exuber's C++ core), same run.

Prints, with ratios ``pyexuber time / our time`` (higher is better for us):

1. ``radf`` at lag 0 for T = 547, 1680, 5000, 10000 and lag 2 at T = 1680, 5000
   (random walks; best of several interleaved runs, after a warm-up call);
2. Monte Carlo critical values, T = 1680, 2000 replications (no cache) against
   ``exuber.radf_mc_cv(1680, nrep=2000)``;
3. the largest absolute differences of ADF/SADF/GSADF/BADF/BSADF to pyexuber
   for lags 0, 1, 2 on random walks, simulated bubbles and real prices;
4. the peak extra memory of ``radf`` on T = 10000 daily observations, measured
   as the growth of the peak resident set size in a fresh process.

Usage::

    uv run python benchmarks/bench_psy.py            # everything (a few minutes)
    uv run python benchmarks/bench_psy.py --quick    # pyexuber MC on 200 reps x 10

Timings depend on the machine and on what else runs on it; the ratios are
measured in the same run, interleaved, to cancel most of that.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import exuber
from exuber.sim import sim_psy1, sim_psy2

from indicators.cv import mc_cv
from indicators.psy import radf

SHARED = Path(os.environ.get("BUBBLEWATCH_SHARED_DATA", ROOT.parent / "shared" / "data"))


def best_of(fns: list[Callable[[], object]], repeats: int) -> list[float]:
    """Best wall time of each function, calls interleaved round-robin."""
    best = [float("inf")] * len(fns)
    for _ in range(repeats):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def bench_radf() -> None:
    print("\n1. radf on random walks (seconds, best of interleaved runs)")
    print(f"{'T':>7} {'lag':>4} {'ours':>10} {'pyexuber':>10} {'ratio':>8}")
    rng = np.random.default_rng(2015)
    for n, lag, reps in [(547, 0, 7), (1680, 0, 5), (5000, 0, 3), (10000, 0, 2),
                         (1680, 2, 5), (5000, 2, 3)]:
        y = np.cumsum(rng.standard_normal(n))
        radf(y, lag=lag)  # warm-up
        exuber.radf(y, lag=lag)
        ours, theirs = best_of([lambda y=y, lag=lag: radf(y, lag=lag),
                                lambda y=y, lag=lag: exuber.radf(y, lag=lag)], reps)
        print(f"{n:>7} {lag:>4} {ours:>10.4f} {theirs:>10.4f} {theirs / ours:>7.1f}x")


def _timed(fn: Callable[[], object]) -> tuple[float, float, object]:
    """Wall time, CPU time of the whole process (all threads) and the result."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def bench_mc(quick: bool) -> None:
    n, reps = 1680, 2000
    print(f"\n2. Monte Carlo critical values, T = {n}, {reps} replications (no cache)")
    mc_cv(100, reps=20, use_cache=False)  # warm-up
    w_ours, c_ours, ours = _timed(lambda: mc_cv(n, reps=reps, seed=1, use_cache=False))
    if quick:
        w_theirs, c_theirs, _ = _timed(lambda: exuber.radf_mc_cv(n, nrep=reps // 10, seed=1))
        w_theirs, c_theirs = 10 * w_theirs, 10 * c_theirs
        how = f"measured on {reps // 10} replications x 10 (its loop is linear in nrep)"
    else:
        w_theirs, c_theirs, theirs = _timed(lambda: exuber.radf_mc_cv(n, nrep=reps, seed=1))
        how = "measured"
        print(f"   GSADF 95% critical value: ours {ours.gsadf[1]:.3f}, pyexuber "
              f"{theirs.gsadf_cv[1]:.3f} (different random numbers)")
    print(f"   {'':<10}{'wall s':>10}{'CPU s':>10}")
    print(f"   {'ours':<10}{w_ours:>10.2f}{c_ours:>10.2f}")
    print(f"   {'pyexuber':<10}{w_theirs:>10.2f}{c_theirs:>10.2f}   ({how})")
    print(f"   ratio: wall {w_theirs / w_ours:.1f}x, CPU {c_theirs / c_ours:.1f}x "
          "(CPU time does not depend on how many cores are free)")


def _prices(symbol: str) -> pd.Series:
    df = pd.read_csv(SHARED / "prices" / f"{symbol.lstrip('^')}.csv", parse_dates=["date"])
    return df.set_index("date")["adj_close"]


def _resample(s: pd.Series, freq: str) -> pd.Series:
    return s.groupby(s.index.to_period(freq)).tail(1)


def bench_accuracy() -> None:
    print("\n3. Largest |ours - pyexuber| (same arguments: PSY window, lag 0/1/2)")
    rng = np.random.default_rng(7)
    cases: list[tuple[str, np.ndarray]] = [
        ("random walk T=1000", np.cumsum(rng.standard_normal(1000))),
        ("random walk T=3000", np.cumsum(rng.standard_normal(3000))),
        ("sim_psy1 bubble T=800", sim_psy1(800, seed=1)),
        ("sim_psy2 two bubbles T=800", sim_psy2(800, seed=2)),
    ]
    if (SHARED / "prices").is_dir():
        gspc = np.log(_prices("^GSPC"))
        ixic = np.log(_prices("^IXIC"))
        nvda = np.log(_prices("NVDA"))
        cases += [
            ("^GSPC daily 1927-1947 (log)", gspc.loc[:"1947"].to_numpy()),
            ("^GSPC daily 2006-2026 (log)", gspc.iloc[-5000:].to_numpy()),
            ("^IXIC monthly 1990-2005 (log)", _resample(ixic.loc["1990":"2005"], "M").to_numpy()),
            ("NVDA weekly 2015-2026 (log)", _resample(nvda.loc["2015":], "W-FRI").to_numpy()),
            ("NVDA daily 1999-2026 (log)", nvda.to_numpy()),
        ]
    print(f"{'series':<32} {'lag':>3} {'T':>6} {'ADF/SADF/GSADF':>15} {'BADF':>10} {'BSADF':>10}")
    worst = 0.0
    for name, y in cases:
        for lag in (0, 1, 2):
            a = radf(y, lag=lag)
            b = exuber.radf(y, lag=lag)
            d_stats = max(abs(a.adf - b.adf[0]), abs(a.sadf - b.sadf[0]),
                          abs(a.gsadf - b.gsadf[0]))
            d_badf = float(np.max(np.abs(a.badf - b.badf[:, 0])))
            d_bsadf = float(np.max(np.abs(a.bsadf - b.bsadf[:, 0])))
            worst = max(worst, d_stats, d_badf, d_bsadf)
            print(f"{name:<32} {lag:>3} {y.size:>6} {d_stats:>15.2e} {d_badf:>10.2e} "
                  f"{d_bsadf:>10.2e}")
    print(f"   largest difference overall: {worst:.2e} (requirement 1e-9)")


_MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, sys, tracemalloc
    import numpy as np
    sys.path.insert(0, {root!r})
    from indicators.psy import radf

    def status(key):
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024  # MB
        return float("nan")

    def reset_peak():  # Linux: "5" resets the peak resident set size (VmHWM)
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
            return True
        except OSError:
            return False

    y = np.cumsum(np.random.default_rng(0).standard_normal(10000))
    radf(y[:300]); radf(y[:300], lag=2); radf(y[:6000])  # load the kernels, start threads
    out = {{}}
    for lag in (0, 2):
        ok = reset_peak()
        base = status("VmRSS")
        tracemalloc.start()
        radf(y, lag=lag)
        py_peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        out[lag] = [status("VmHWM") - base if ok else float("nan"), py_peak]
    print(json.dumps(out))
    """
)


def bench_memory() -> None:
    print("\n4. Extra memory of radf on T = 10000 (fresh process, after warm-up)")
    proc = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT.format(root=str(ROOT))],
                          capture_output=True, text=True, check=True)
    grown = json.loads(proc.stdout.strip().splitlines()[-1])
    for lag, (rss_mb, py_mb) in grown.items():
        print(f"   lag {lag}: peak RSS +{rss_mb:5.1f} MB, numpy/Python peak {py_mb:5.2f} MB "
              f"(requirement < 100 MB; one T x T float matrix would be "
              f"{10000 ** 2 * 8 / 2**20:.0f} MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="time pyexuber's Monte Carlo on 200 replications and scale x10")
    args = parser.parse_args()
    print("PSY engine benchmark: bubblewatch (numba) vs pyexuber "
          f"{getattr(exuber, '__version__', '?')} (exuber C++ core)")
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    t0 = time.perf_counter()
    radf(np.cumsum(np.random.default_rng(0).standard_normal(300)))
    radf(np.cumsum(np.random.default_rng(0).standard_normal(300)), lag=2)
    print(f"first calls (numba cache load or compile): {time.perf_counter() - t0:.1f} s")
    bench_radf()
    bench_mc(args.quick)
    bench_accuracy()
    bench_memory()


if __name__ == "__main__":
    main()
