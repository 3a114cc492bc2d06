"""Monte Carlo of the real-time monitors (:mod:`indicators.cusum`).

Prints one row per procedure: the nominal false-alarm rate over the horizon,
the empirical rate of any alarm under a Gaussian random walk (homoskedastic,
and with the volatility doubling in the middle of the sample), and, under a
Phillips-Wu-Yu bubble that starts inside the monitoring period, the share of
replications alarmed during the bubble, the median detection delay (alarm
date minus bubble start, over those replications) and the share alarmed
before the bubble started.

Design (defaults): training sample of ``--train`` observations, horizon of
``--horizon`` monitoring observations, so ``T = train + horizon``
observations per replication. The bubble DGP of Phillips, Wu & Yu (2011) and
Phillips, Shi & Yu (2015): ``y_t = y_{t-1} + e_t`` with ``y_0 = 100``,
``e_t ~ N(0, 6.79^2)``, and ``y_t = delta y_{t-1} + e_t`` with
``delta = 1 + T^-0.6`` from ``train + horizon/4`` for ``horizon/4``
observations, after which the bubble collapses to its starting level.
Every procedure runs on the same simulated paths.

Usage::

    uv run python benchmarks/sim_cusum.py                 # 5000 replications
    uv run python benchmarks/sim_cusum.py --reps 1000     # quicker

Binomial standard error of a 5% rate: ``sqrt(.05 * .95 / reps)`` (0.003 at 5000).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indicators.cusum import ahltz_monitor, bd_monitor, hb_monitor

Monitor = Callable[[np.ndarray], int | None]


def procedures(train: int, horizon: int, alpha: float) -> dict[str, Monitor]:
    def wrap(fn: Callable[..., object], **kw: object) -> Monitor:
        return lambda y: fn(y, train, horizon, alpha=alpha, **kw).first_alarm_position
    return {
        "HB CUSUM (sigma recursive)": wrap(hb_monitor),
        "HB CUSUM (sigma training)": wrap(hb_monitor, sigma="training"),
        "AHLTZ spot-vol CUSUM (N=20)": wrap(ahltz_monitor),
        "BD CUSUM (linear bound)": wrap(bd_monitor, detector="cusum"),
        "BD mCUSUM": wrap(bd_monitor, detector="mcusum"),
        "BD wCUSUM (c=2.1)": wrap(bd_monitor, detector="wcusum"),
    }


def random_walk(rng: np.random.Generator, nobs: int, shift_at: int | None) -> np.ndarray:
    e = rng.standard_normal(nobs)
    if shift_at is not None:
        e[shift_at:] *= 2.0
    e[0] = 0.0
    return 100.0 + np.cumsum(e)


def pwy_bubble(rng: np.random.Generator, nobs: int, start: int, length: int) -> np.ndarray:
    sigma = 6.79
    delta = 1.0 + nobs ** -0.6
    y = np.empty(nobs)
    y[0] = 100.0
    e = sigma * rng.standard_normal(nobs)
    for t in range(1, nobs):
        if start <= t < start + length:
            y[t] = delta * y[t - 1] + e[t]
        elif t == start + length:
            y[t] = y[start] + e[t]  # collapse to the level at the start
        else:
            y[t] = y[t - 1] + e[t]
    return y


def run(reps: int, train: int, horizon: int, alpha: float, seed: int) -> None:
    nobs = train + horizon
    procs = procedures(train, horizon, alpha)
    start, length = train + horizon // 4, horizon // 4
    rng = np.random.default_rng(seed)
    homo = {k: 0 for k in procs}
    shifted = {k: 0 for k in procs}
    during = {k: [] for k in procs}
    early = {k: 0 for k in procs}
    t0 = time.perf_counter()
    for _ in range(reps):
        y0 = random_walk(rng, nobs, None)
        y1 = random_walk(rng, nobs, nobs // 2)
        y2 = pwy_bubble(rng, nobs, start, length)
        for name, fn in procs.items():
            homo[name] += fn(y0) is not None
            shifted[name] += fn(y1) is not None
            pos = fn(y2)
            if pos is not None and pos < start:
                early[name] += 1
            elif pos is not None and pos < start + length:
                during[name].append(pos - start)
    elapsed = time.perf_counter() - t0
    se = (alpha * (1 - alpha) / reps) ** 0.5
    print(f"reps {reps}, training {train} obs, horizon {horizon} obs, volatility doubles at "
          f"obs {nobs // 2}; bubble obs {start}..{start + length - 1} "
          f"(delta = {1 + nobs ** -0.6:.4f}); binomial se of a {alpha:g} rate {se:.4f}")
    head = (f"{'procedure':<30}{'nominal':>8}{'FPR homo':>10}{'FPR vol x2':>11}"
            f"{'detected':>10}{'median delay':>14}{'alarm early':>13}")
    print(head)
    print("-" * len(head))
    for name in procs:
        d = during[name]
        med = f"{np.median(d):.0f}" if d else "n/a"
        print(f"{name:<30}{alpha:>8.3f}{homo[name] / reps:>10.4f}{shifted[name] / reps:>11.4f}"
              f"{len(d) / reps:>10.3f}{med:>14}{early[name] / reps:>13.4f}")
    print(f"({3 * len(procs) * reps} monitor calls in {elapsed:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5000)
    parser.add_argument("--train", type=int, default=201)
    parser.add_argument("--horizon", type=int, default=400)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    run(args.reps, args.train, args.horizon, args.alpha, args.seed)


if __name__ == "__main__":
    main()
