"""Simulate the boundary constants shipped in ``indicators/cusum_tables/``.

Writes ``hb_cusum.csv``: the constant ``b`` of the one-sided Homm & Breitung
(2012) CUSUM boundary ``sqrt(t (b + log(t/n)))`` such that a random walk
crosses it by the end of the monitoring horizon with probability ``alpha``,
for training samples of ``n`` returns and horizons of ``ratio * n``
monitoring observations, for three variances of the detector:

``recursive``
    ``sigma_t^2`` = mean squared return up to ``t`` (Homm & Breitung's
    estimator from the sample up to ``t``);
``training``
    the mean squared return of the training sample;
``known``
    ``sigma = 1`` (the asymptotic constant, ``n = 500`` steps per unit of
    training time), used by the volatility-robust CUSUM of Astill, Harvey,
    Leybourne, Taylor & Zu (2023), whose standardised returns have unit
    variance in the limit.

and checks the Breitung & Diegel (2025) constants in ``breitung_diegel.csv``
(printed: paper value, closed form where one exists, simulation).

Usage (a few minutes on two cores)::

    uv run python indicators/cusum_tables/simulate_tables.py            # write hb_cusum.csv
    uv run python indicators/cusum_tables/simulate_tables.py --check    # only the BD check

Random numbers: ``numpy.random.default_rng(SEED + n)`` per training size, drawn
in chunks of rows, so the table depends only on the constants below.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from indicators import _cusum_kernels as kernels

SEED = 20120101
REPS = 60_000
#: Training sizes (returns) of the ``recursive`` and ``training`` variants.
N_GRID = (20, 30, 50, 75, 100, 150, 200, 300, 500, 1000)
#: Training size of the ``known`` (asymptotic) variant.
N_KNOWN = 500
#: Monitoring horizon as a multiple of the training returns.
RATIOS = (0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0, 9.0, 14.0, 19.0)
ALPHAS = (0.10, 0.05, 0.025, 0.01)
#: Doubles per chunk of simulated returns (bounds memory, not results).
CHUNK_DOUBLES = 1 << 22
NO_WEIGHTS = np.empty(0)
MODES = {"recursive": kernels.SIGMA_RECURSIVE, "training": kernels.SIGMA_TRAINING,
         "known": kernels.SIGMA_KNOWN}


def horizon_ends(n: int) -> np.ndarray:
    """Last monitoring observation ``n + round(ratio n)`` for every ratio."""
    return np.array([n + max(1, round(r * n)) for r in RATIOS], dtype=np.int64)


def simulate_hb(n: int, modes: tuple[str, ...], reps: int = REPS) -> dict[str, np.ndarray]:
    """Quantiles ``(len(RATIOS), len(ALPHAS))`` of the crossing constant."""
    ends = horizon_ends(n)
    tmax = int(ends[-1])
    rng = np.random.default_rng(SEED + n)
    chunk = max(1, CHUNK_DOUBLES // tmax)
    stats = {m: np.empty((reps, ends.size)) for m in modes}
    for s in range(0, reps, chunk):
        c = min(chunk, reps - s)
        shocks = rng.standard_normal((c, tmax))
        for m in modes:
            kernels.sim_excess(shocks, n, ends, MODES[m], NO_WEIGHTS, stats[m][s:s + c])
    probs = 1.0 - np.array(ALPHAS)
    return {m: np.quantile(v, probs, axis=0).T for m, v in stats.items()}


def write_hb(path: Path, reps: int = REPS) -> None:
    rows = ["sigma,n,ratio,alpha,b,reps,seed"]
    jobs = [(n, ("recursive", "training")) for n in N_GRID] + [(N_KNOWN, ("known",))]
    for n, modes in jobs:
        t0 = time.perf_counter()
        q = simulate_hb(n, modes, reps)
        for m in modes:
            for i, ratio in enumerate(RATIOS):
                for j, alpha in enumerate(ALPHAS):
                    rows.append(f"{m},{n},{ratio:g},{alpha:g},{q[m][i, j]:.4f},{reps},{SEED + n}")
        print(f"n={n:5d} {modes} {time.perf_counter() - t0:6.1f} s", flush=True)
    path.write_text("\n".join(rows) + "\n")
    print(f"wrote {path}")


def check_bd(reps: int = 200_000, tm: int = 5000, seed: int = SEED) -> None:
    """Paper constants of Breitung & Diegel (2025) against closed forms and
    simulation (``tm`` steps approximate the continuous supremum)."""
    from scipy.stats import norm

    table = np.genfromtxt(HERE / "breitung_diegel.csv", delimiter=",", names=True,
                          dtype=None, encoding="utf-8")
    rng = np.random.default_rng(seed)
    sims: dict[tuple[str, float], np.ndarray] = {}
    print(f"{'detector':<8}{'c_bar':>6}{'alpha':>7}{'paper':>8}{'closed':>8}{'sim':>8}")
    for row in table:
        det, c_bar, alpha, value = str(row["detector"]), float(row["c_bar"]), \
            float(row["alpha"]), float(row["value"])
        key = (det, c_bar)
        if key not in sims:
            out = np.empty(reps)
            chunk = max(1, CHUNK_DOUBLES // tm)
            slope = 2.0 if det == "cusum" else 0.0
            for s in range(0, reps, chunk):
                c = min(chunk, reps - s)
                kernels.sim_bd_sup(rng.standard_normal((c, tm)), c_bar, slope, out[s:s + c])
            sims[key] = out
        sim = float(np.quantile(sims[key], 1 - alpha))
        if det == "cusum":  # P(W(r) >= g + 2g r, some r <= 1), Brownian motion
            closed = _solve(lambda g, a=alpha: 1 - norm.cdf(3 * g) + math.exp(-4 * g * g)
                            * norm.cdf(g) - a)
        elif c_bar == 0.0:  # reflection principle: P(sup W > b) = 2(1 - Phi(b))
            closed = float(norm.ppf(1 - alpha / 2))
        else:
            closed = math.nan
        print(f"{det:<8}{c_bar:>6g}{alpha:>7g}{value:>8.3f}{closed:>8.3f}{sim:>8.3f}")


def _solve(f, lo: float = 0.01, hi: float = 5.0) -> float:
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check the BD constants")
    parser.add_argument("--reps", type=int, default=REPS)
    args = parser.parse_args()
    if not args.check:
        write_hb(HERE / "hb_cusum.csv", args.reps)
    check_bd()


if __name__ == "__main__":
    main()
