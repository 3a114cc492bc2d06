"""Size and power of the co-explosiveness test (:func:`indicators.panel.coexplosive_test`).

Prints the rejection rate at a nominal 5% of the test with the statistic
divided by the long-run variance of the residuals (the default) and by their
short-run variance (what earlier versions did), under:

* the null of co-explosiveness ``y_t = 1 + 0.8 x_t + u_t`` with ``x`` a random
  walk that turns explosive (``x_t = 1.05 x_{t-1} + e_t``) for the last 50 of
  120 observations and ``u`` white noise, white noise whose volatility
  quadruples half way, or AR(1) with coefficient 0.5, 0.7 or 0.9;
* the alternative: ``y`` an independent explosive series of the same kind.

Then, on the shared real prices (weekly log adjusted closes of the dot-com
cohort over the panel episode of 1999-02-26 to 2000-10-20 found by
``cohort_reading``), the p-value of every member against Cisco under both
variances.

Usage::

    uv run python benchmarks/sim_coexplosive.py            # 500 replications
    uv run python benchmarks/sim_coexplosive.py --sims 200
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indicators.panel import coexplosive_test
from indicators.psy_indicator import sample

VARIANCES = ("long_run", "short_run")


def explosive(rng: np.random.Generator, n: int, te: int, rho: float = 1.05) -> np.ndarray:
    x = np.empty(n)
    x[0] = 10.0
    e = rng.standard_normal(n)
    for t in range(1, n):
        x[t] = (rho if t >= te else 1.0) * x[t - 1] + e[t]
    return x


def ar1(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    e = rng.standard_normal(n)
    u = np.empty(n)
    u[0] = e[0] / math.sqrt(1 - phi * phi) if phi else e[0]
    for t in range(1, n):
        u[t] = phi * u[t - 1] + e[t]
    return u


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sims", type=int, default=500)
    ap.add_argument("--boot", type=int, default=199)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    n, te = 120, 70
    vol = np.r_[np.ones(60), 4 * np.ones(60)]
    cases = {
        "null, white-noise u": lambda x: 1 + 0.8 * x + rng.standard_normal(n),
        "null, volatility x4 half way": lambda x: 1 + 0.8 * x + vol * rng.standard_normal(n),
        "null, AR(1) u, 0.5": lambda x: 1 + 0.8 * x + ar1(rng, n, 0.5),
        "null, AR(1) u, 0.7": lambda x: 1 + 0.8 * x + ar1(rng, n, 0.7),
        "null, AR(1) u, 0.9": lambda x: 1 + 0.8 * x + ar1(rng, n, 0.9),
        "alternative: independent bubble": lambda x: explosive(rng, n, te),
    }
    t0 = time.perf_counter()
    se = math.sqrt(0.05 * 0.95 / args.sims)
    print(f"{args.sims} replications, {args.boot} bootstrap draws, n = {n}, lag fixed at 0; "
          f"standard error of a 5% rate {se:.3f}")
    print(f"{'case':<34} {'long-run var.':>14} {'short-run var.':>15}")
    for name, make in cases.items():
        rej = dict.fromkeys(VARIANCES, 0)
        for _ in range(args.sims):
            x = explosive(rng, n, te)
            y = make(x)
            for v in VARIANCES:
                rej[v] += coexplosive_test(y, x, lag=0, reps=args.boot, seed=None,
                                           variance=v).reject
        print(f"{name:<34} {rej['long_run'] / args.sims:>14.3f} "
              f"{rej['short_run'] / args.sims:>15.3f}")
    print(f"({time.perf_counter() - t0:.0f} s)")

    data = ROOT.parent / "shared" / "data" / "prices"
    if not data.is_dir():
        return
    start, end = "1999-02-26", "2000-10-20"
    cols = {}
    for sym in ("CSCO", "MSFT", "ORCL", "INTC", "QCOM", "GLW", "VIAV"):
        px = pd.read_csv(data / f"{sym}.csv", parse_dates=["date"]).set_index("date")
        cols[sym] = np.log(sample(px["adj_close"], "W"))
    panel = pd.DataFrame(cols)[start:end]
    print(f"\ndot-com members on CSCO, weekly log prices {start} to {end} "
          f"({len(panel)} weeks), lead/lag chosen in -6..6, 499 draws:")
    print(f"{'pair':<14} {'lag':>4} {'bandwidth':>10} {'p long-run':>11} {'p short-run':>12}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sym in panel.columns.drop("CSCO"):
            lr = coexplosive_test(panel[sym], panel["CSCO"], y_symbol=sym, x_symbol="CSCO")
            sr = coexplosive_test(panel[sym], panel["CSCO"], variance="short_run")
            print(f"{sym + ' on CSCO':<14} {lr.lag:>4} {lr.bandwidth:>10} {lr.p_value:>11.3f} "
                  f"{sr.p_value:>12.3f}")


if __name__ == "__main__":
    main()
