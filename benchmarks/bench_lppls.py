"""Benchmark of the LPPLS engine against the PyPI package ``lppls`` (same run).

Run from the repository root::

    uv run python benchmarks/bench_lppls.py [--quick]

1. One fit: :func:`indicators.lppls.fit` against ``lppls.LPPLS.fit(max_searches=25)``
   on the same windows (time in trading days for both), with both sums of
   squared residuals. ``lppls`` stops at its first converged Nelder-Mead search
   from a random start; ours returns the best of a global search. ``lppls`` is
   timed over several seeds (its time depends on the start), median reported.
2. One end date with the full FCO grid (126 windows of 750..125 trading days),
   warm, all cores; then the same with the Trust indicator (10 synthetic
   series per window: 126 + 1260 fits).
3. A year of daily end dates (252 x 126 fits) for one symbol.
4. The Trust refits of one window: the 10 synthetic series of the 500-day
   ^IXIC window to 2000-03-09 fitted by our trust kernel (one call) and by
   ``lppls.LPPLS.fit(25)`` one after another (``lppls`` has no Trust
   indicator; this is what building it on ``lppls`` would cost).

The shared data folder (``../shared/data`` or ``BUBBLEWATCH_SHARED_DATA``) must
be present. Load from other processes skews timings: the load average is printed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indicators import lppls as L

DATA = Path(os.environ.get("BUBBLEWATCH_SHARED_DATA", ROOT.parent / "shared" / "data"))


def prices(symbol: str) -> pd.Series:
    df = pd.read_csv(DATA / "prices" / f"{symbol.lstrip('^')}.csv", parse_dates=["date"])
    return df.set_index("date")["adj_close"].dropna()


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def bench_single(reps_ours: int, seeds: int) -> None:
    from lppls import lppls

    ixic = np.log(prices("^IXIC").loc[:"2000-03-09"].to_numpy())
    nvda = np.log(prices("NVDA").loc[:"2024-06-18"].to_numpy())
    rng = np.random.default_rng(0)
    tt = np.arange(400, dtype=float)
    synth = L.lppls_model(tt, 419.0, 0.5, 8.0, 5.0, -0.02, 0.002, -0.0015) + rng.normal(
        0, 0.006, 400)
    cases = [("^IXIC 500d to 2000-03-09", ixic[-500:]), ("^IXIC 250d to 2000-03-09", ixic[-250:]),
             ("NVDA 500d to 2024-06-18", nvda[-500:]), ("NVDA 250d to 2024-06-18", nvda[-250:]),
             ("synthetic LPPLS 400d", synth)]
    print("1. One fit: indicators.lppls.fit vs lppls.LPPLS.fit(max_searches=25)")
    print("   SSE: lppls median over seeds; lppls best among seeds with m >= 0 (inside the LPPLS")
    print("   model: m < 0 has no finite-time singularity); ours. ok = ours <= that best.")
    print(f"   {'window':28s} {'lppls ms':>9s} {'ours ms':>8s} {'ratio':>6s}"
          f" {'lppls med':>10s} {'lppls m>=0':>10s} {'ours SSE':>10s}")
    ratios = []
    for name, y in cases:
        t = np.arange(y.size, dtype=float)
        obs = np.array([t, y])
        model = lppls.LPPLS(observations=obs)
        random.seed(0)
        np.random.seed(0)
        model.fit(25)  # warm numba in lppls
        L.fit(t, y)  # warm ours
        times, sses, opt = [], [], []
        for s in range(seeds):
            random.seed(s)
            np.random.seed(s)
            t0 = time.perf_counter()
            tc, m, w, *_ = model.fit(25)
            times.append(time.perf_counter() - t0)
            sse = float(model.func_restricted(np.array([tc, m, w]), obs)) if tc else np.inf
            sses.append(sse)
            opt.append((tc - t[-1], m, w))
        ours_t = []
        for _ in range(reps_ours):
            t0 = time.perf_counter()
            r = L.fit(t, y)
            ours_t.append(time.perf_counter() - t0)
        lt, ot = statistics.median(times), statistics.median(ours_t)
        ratios.append(lt / ot)
        inside = [v for v, o in zip(sses, opt, strict=True) if o[1] >= 0]
        best_in = min(inside) if inside else float("nan")
        flag = "ok" if not inside or r.sse <= best_in * (1 + 1e-6) else "WORSE"
        print(f"   {name:28s} {lt * 1e3:9.1f} {ot * 1e3:8.2f} {lt / ot:6.1f}"
              f" {statistics.median(sses):10.5f} {best_in:10.5f} {r.sse:10.5f}  {flag}")
        m_at_min = opt[int(np.argmin(sses))][1]
        print(f"   {'':28s} lppls SSE over {seeds} seeds: min {min(sses):.5f} (m={m_at_min:.3f})"
              f" max {max(sses):.5f}; ours tc-t2={r.tc_ahead:+.1f} m={r.m:.3f} w={r.omega:.2f}")
    print(f"   speed-up (median lppls time / median ours): min {min(ratios):.1f}x,"
          f" median {statistics.median(ratios):.1f}x")


def bench_end_date(reps: int) -> None:
    px = prices("^IXIC")
    L.confidence(px, ["2000-03-09"])  # warm (compile / cache load)
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        r = L.confidence(px, ["2000-03-09"])
        ts.append(time.perf_counter() - t0)
    print(f"2. One end date, full FCO grid ({r.n_windows} windows {r.windows[-1]}-{r.windows[0]}d),"
          f" ^IXIC 2000-03-09: median {statistics.median(ts):.3f} s, best {min(ts):.3f} s"
          f" over {reps} runs (pos_conf {r.pos_conf[0]:.3f})")
    n_boot = L.DEFAULT_TRUST_RESAMPLES
    L.confidence(px, ["2000-03-09"], min_window=700, max_window=750, trust_resamples=1)  # warm
    tt = []
    for _ in range(max(1, reps // 2)):
        t0 = time.perf_counter()
        r = L.confidence(px, ["2000-03-09"], trust_resamples=n_boot)
        tt.append(time.perf_counter() - t0)
    assert r.pos_trust is not None
    ct = statistics.median(tt)
    print(f"   with Trust ({n_boot} resamples per window, {r.n_windows * (1 + n_boot)} fits):"
          f" median {ct:.2f} s ({ct / statistics.median(ts):.1f}x the confidence alone;"
          f" pos_trust {r.pos_trust[0]:.3f})")


def bench_year(symbol: str, n_ends: int) -> None:
    px = prices(symbol)
    ends = list(range(len(px) - n_ends, len(px)))
    t0 = time.perf_counter()
    r = L.confidence(px, ends)
    el = time.perf_counter() - t0
    nfits = n_ends * r.n_windows
    print(f"3. {n_ends} daily end dates x {r.n_windows} windows = {nfits} fits for {symbol}"
          f" ({r.index[0].date()} to {r.index[-1].date()}): {el:.1f} s"
          f" ({el / nfits * 1e3:.2f} ms per fit wall, {el / n_ends:.3f} s per end date)")
    f = r.to_frame(dates=False)
    print(f"   pos_conf mean {f.pos_conf.mean():.3f} max {f.pos_conf.max():.3f};"
          f" neg_conf mean {f.neg_conf.mean():.3f} max {f.neg_conf.max():.3f}")


def bench_trust_window(seeds: int) -> None:
    from lppls import lppls

    from indicators import _lppls_kernels as K

    px = prices("^IXIC").loc[:"2000-03-09"]
    n_boot, w = L.DEFAULT_TRUST_RESAMPLES, 500
    kw = {"min_window": w, "max_window": w, "trust_resamples": n_boot}
    L.confidence(px, [-1], **kw)  # warm
    t0 = time.perf_counter()
    r = L.confidence(px, [-1], **kw)
    ours = time.perf_counter() - t0
    assert r.trust_fits is not None and r.pos_trust is not None
    # the same synthetic series, rebuilt from the documented draws
    y = np.log(px.to_numpy())[-w:]
    t = np.arange(px.size - w, px.size, dtype=float)
    best = r.fits[0, 0]
    fitted = L.lppls_model(t, *best[[K.OUT_TC, K.OUT_M, K.OUT_OMEGA, K.OUT_A, K.OUT_B,
                                     K.OUT_C1, K.OUT_C2]])
    resid = y - fitted
    key = K.resample_key(0, px.size - 1, w)
    series = [fitted + resid[[K.mix32(key ^ K.mix32(b * w + j)) % w for j in range(w)]]
              for b in range(n_boot)]
    model = lppls.LPPLS(observations=np.array([t, series[0]]))
    random.seed(0)
    np.random.seed(0)
    model.fit(25)  # warm numba in lppls
    theirs = []
    for s in range(seeds):
        random.seed(s)
        np.random.seed(s)
        t0 = time.perf_counter()
        for ys in series:
            model.fit(25, obs=np.array([t, ys]))
        theirs.append(time.perf_counter() - t0)
    lt = statistics.median(theirs)
    print(f"4. Trust refits, ^IXIC {w}d window to 2000-03-09, {n_boot} synthetic series:"
          f" ours {ours * 1e3:.0f} ms (with the window's own fit), lppls {lt * 1e3:.0f} ms"
          f" (median of {seeds} seeds); ratio {lt / ours:.1f}x; this window's positive trust"
          f" {r.pos_trust[0]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions, 21 end dates")
    args = ap.parse_args()
    print(load())
    bench_single(reps_ours=5 if args.quick else 20, seeds=3 if args.quick else 7)
    bench_end_date(reps=2 if args.quick else 5)
    bench_year("NVDA", 21 if args.quick else 252)
    bench_trust_window(seeds=2 if args.quick else 5)
    print(load())


if __name__ == "__main__":
    main()
