"""Generate the shipped PSY critical-value tables.

Run::

    nice -n 15 uv run python -m indicators.critical_values.generate

It writes ``psy_lag{K}.npz`` beside this file for lags 0-4 (see
:mod:`indicators.critical_values` for the contents) and prints its progress
and the accuracy checks. For each lag it simulates ``reps`` random walks of
length ``N = 5031`` (the largest sample with the PSY window of 5000) with
``numpy.random.default_rng([seed, lag])`` (time-major draws,
:func:`~indicators.critical_values.simulate.random_walks`), computes the
statistics of every PSY minimum window at once
(:func:`~indicators.critical_values.simulate.simulate_family`) and keeps
their quantiles.

What is stored, and the grid
----------------------------
* BADF quantiles at every observation (90/95/99%).
* For every PSY window ``w``: BSADF, SADF and GSADF quantiles (90/95/99%) at
  the observations ``t = n - 1`` of every sample size ``n`` whose PSY window
  is ``w`` (so every real-time and whole-sample critical value is an exact
  table entry), at the first ``HEAD`` observations of the window and on a
  geometric grid of ratio ``RATIO`` elsewhere (read by linear interpolation
  when a date-stamping sequence is needed).
* The distribution of ADF, SADF, GSADF and the last BSADF at
  :data:`~indicators.critical_values.tables.DIST_PROBS` for sample sizes on a
  geometric grid of ratio ``DIST_RATIO`` (for p-values).

The checks compare, at every point left out of a grid, the interpolated value
with the one simulated there, against the Monte Carlo standard error of the
quantile (order statistics ``sqrt(p (1 - p) / reps)`` apart in probability).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indicators._psy_inputs import psy_min_window
from indicators.critical_values.simulate import (
    LEVELS,
    FamilyDraws,
    pointwise_quantiles,
    psy_band_end,
    psy_first_n,
    random_walks,
    simulate_family,
)
from indicators.critical_values.tables import (
    DIST_PROBS,
    DIST_STATS,
    TABLE_DIR,
    TABLE_LAGS,
    TABLE_VERSION,
    table_path,
)

#: Largest sample size asked for (the table runs to the end of its PSY band).
N_MAX = 5000
#: Replications per lag (lag 0 is ten times cheaper, so it gets more).
REPS = {0: 5000, 1: 2000, 2: 2000, 3: 2000, 4: 2000}
SEED = 20150401
#: Observations stored one by one at the start of each window's sequence.
HEAD = 16
#: Ratio of the geometric observation grid of the sequences.
RATIO = 1.04
#: Ratio of the geometric sample-size grid of the distribution table.
DIST_RATIO = 1.03
#: Windows (as fractions of the window range) checked against every observation.
CHECK_AT = (0.05, 0.4, 1.0)
#: Observations of a checked window simulated one by one (from its first).
CHECK_SPAN = 1200


def window_points(w: int, lag: int, n_lo: int, n_hi: int, ratio: float = RATIO,
                  head: int = HEAD) -> np.ndarray:
    """Observations stored for window ``w``: the band ``{n - 1 : w(n) = w}``,
    the first ``head`` observations and a geometric grid up to the band end."""
    t0 = w + lag
    band = [n - 1 for n in range(n_lo, n_hi + 1) if psy_min_window(n) == w]
    t_end = max(band) if band else t0
    pts = set(band) | set(range(t0, min(t_end, t0 + head - 1) + 1)) | {t_end}
    t = t0 + head
    while t < t_end:
        pts.add(t)
        t = max(t + 1, round(t * ratio))
    return np.array(sorted(pts), dtype=np.int64)


def dist_grid(n_lo: int, n_hi: int, ratio: float = DIST_RATIO) -> np.ndarray:
    """Sample sizes of the distribution table: geometric from ``n_lo`` to ``n_hi``."""
    out = [n_lo]
    while out[-1] < n_hi:
        out.append(min(n_hi, max(out[-1] + 1, round(out[-1] * ratio))))
    return np.array(out, dtype=np.int64)


def quantile_se(draws: np.ndarray, probs: Sequence[float]) -> np.ndarray:
    """Monte Carlo standard error of each column's quantiles: half the spread
    of the quantiles at ``p -/+ sqrt(p (1 - p) / reps)`` (binomial order
    statistics), shape ``(columns, len(probs))``."""
    reps = draws.shape[0]
    out = []
    for p in probs:
        d = np.sqrt(p * (1 - p) / reps)
        q = pointwise_quantiles(draws, [p - d, min(p + d, 1.0)])
        out.append((q[:, 1] - q[:, 0]) / 2)
    return np.column_stack(out)


def build(lag: int, n_max: int, reps: int, seed: int, *, ratio: float = RATIO,
          dist_ratio: float = DIST_RATIO, check: bool = True,
          log: Any = print) -> tuple[dict[str, np.ndarray], dict]:
    """Simulate one lag's table: ``(arrays, meta)`` ready for ``np.savez``."""
    n_lo = psy_first_n(lag)
    n_hi = psy_band_end(n_max)
    wmin, wmax = psy_min_window(n_lo), psy_min_window(n_hi)
    windows = list(range(wmin, wmax + 1))
    stored = [window_points(w, lag, n_lo, n_hi, ratio) for w in windows]
    checked = {windows[min(len(windows) - 1, round(f * (len(windows) - 1)))]
               for f in CHECK_AT} if check else set()
    points = []
    for w, pts in zip(windows, stored, strict=True):
        if w in checked:  # every observation of the window's first CHECK_SPAN, for the check
            pts = np.union1d(pts, np.arange(w + lag, min(pts[-1], w + lag + CHECK_SPAN) + 1))
        points.append(pts)
    nq = sum(len(p) for p in points)
    log(f"lag {lag}: n = {n_lo}..{n_hi}, windows {wmin}..{wmax}, {reps} random walks of "
        f"length {n_hi}, {nq} query points ({sum(len(p) for p in stored)} stored)")
    rng = np.random.default_rng([seed, lag])
    paths = random_walks(reps, n_hi, rng)
    t_start = time.perf_counter()
    last = [t_start]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= 30 or done == total:
            last[0] = now
            el = now - t_start
            log(f"  lag {lag}: {done}/{total} paths, {el:.0f} s, about "
                f"{el / done * (total - done):.0f} s left", flush=True)

    draws = simulate_family(paths, wmin, wmax, lag, points, progress=progress)
    del paths
    seconds = time.perf_counter() - t_start
    badf_q = pointwise_quantiles(draws.badf, LEVELS)
    seq = {k: pointwise_quantiles(getattr(draws, k), LEVELS) for k in ("bsadf", "sadf", "gsadf")}
    ptr = np.zeros(len(points) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(p) for p in points])
    # distribution table on the sample-size grid
    dn = dist_grid(n_lo, n_hi, dist_ratio)
    band_j = {}
    for k, (w, pts) in enumerate(zip(windows, points, strict=True)):
        for n in range(n_lo, n_hi + 1):
            if psy_min_window(n) == w:
                band_j[n] = ptr[k] + int(np.searchsorted(pts, n - 1))
    cols = {"adf": draws.badf[:, dn - 1]}
    for name in ("sadf", "gsadf", "bsadf"):
        cols[name] = getattr(draws, name)[:, [band_j[int(n)] for n in dn]]
    dist = np.stack([pointwise_quantiles(cols[s], DIST_PROBS) for s in DIST_STATS])
    checks = _checks(lag, draws, seq, badf_q, dist, dn, windows, points, stored, ptr, band_j,
                     checked, n_lo, n_hi, log) if check else {}
    # keep the stored points only
    keep = np.concatenate([np.isin(p, s) for p, s in zip(points, stored, strict=True)])
    win_ptr = np.zeros(len(stored) + 1, dtype=np.int64)
    win_ptr[1:] = np.cumsum([len(s) for s in stored])
    arrays = {
        "badf": badf_q.astype(np.float32),
        "win_ptr": win_ptr.astype(np.int32),
        "grid_t": np.concatenate(stored).astype(np.int32),
        **{k: v[keep].astype(np.float32) for k, v in seq.items()},
        "dist_n": dn.astype(np.int32),
        "dist": dist.astype(np.float32),
    }
    meta = {
        "version": TABLE_VERSION, "lag": lag, "reps": reps, "seed": seed,
        "rng": f"numpy.random.default_rng([{seed}, {lag}]), time-major random walks",
        "n_min": n_lo, "n_max": n_hi, "wmin": wmin, "wmax": wmax,
        "window_rule": "floor((0.01 + 1.8 / sqrt(n)) * n)",
        "levels": list(LEVELS), "probs": list(DIST_PROBS), "stats": list(DIST_STATS),
        "grid": {"head": HEAD, "ratio": ratio, "dist_ratio": dist_ratio},
        "simulation_seconds": round(seconds, 1), "checks": checks,
    }
    return arrays, meta


def curvature_bias(x: np.ndarray, f: np.ndarray, grid: np.ndarray) -> float:
    """Largest interpolation bias of the smooth curve behind ``f(x)`` when it
    is read linearly between ``grid`` points: on each gap ``[a, b]`` a
    quadratic fitted to ``f`` over the nine gaps around it (which averages out
    the Monte Carlo noise) has curvature ``c``, and linear interpolation of a
    quadratic errs by at most ``|c| (b - a)^2 / 4``."""
    worst = 0.0
    for a, b in itertools.pairwise(grid):
        if b - a < 2:
            continue
        sel = (x >= a - 4 * (b - a)) & (x <= b + 4 * (b - a)) & np.isfinite(f)
        if sel.sum() < 5:
            continue
        u = (x[sel] - a) / (b - a)
        c = np.polyfit(u, f[sel], 2)[0]  # curvature per gap length squared
        worst = max(worst, abs(float(c)) / 4)
    return worst


def _checks(lag: int, draws: FamilyDraws, seq: dict[str, np.ndarray], badf_q: np.ndarray,
            dist: np.ndarray, dn: np.ndarray, windows: list[int], points: list[np.ndarray],
            stored: list[np.ndarray], ptr: np.ndarray, band_j: dict[int, int],
            checked: set[int], n_lo: int, n_hi: int, log: Any) -> dict:
    """Interpolation error of both grids, against the Monte Carlo standard
    error: the largest curvature bias (:func:`curvature_bias`) and the RMS
    difference to the values simulated between grid points (which is Monte
    Carlo noise plus bias)."""
    out: dict[str, dict] = {}

    def record(key: str, name: str, x: np.ndarray, exact: np.ndarray, grid: np.ndarray,
               raw: np.ndarray) -> None:
        se = quantile_se(raw, LEVELS)
        left_out = ~np.isin(x, grid)
        on_grid = np.isin(x, grid)
        for c, lev in enumerate(LEVELS):
            bias = curvature_bias(x, exact[:, c], grid)
            interp = np.interp(x, x[on_grid], exact[on_grid, c])
            diff = (interp - exact[:, c])[left_out]
            rms = float(np.sqrt(np.mean(diff ** 2))) if diff.size else 0.0
            med_se = float(np.median(se[:, c]))
            row = out.setdefault(key, {}).setdefault(name, {})
            row[f"{round(lev * 100)}"] = {"bias": bias, "rms_diff": rms, "median_se": med_se}
            log(f"  lag {lag}: {key:<9} {name:<12} {round(lev * 100)}%: bias <= {bias:.5f}, "
                f"RMS difference {rms:.4f}, median MC s.e. {med_se:.4f}")

    # 1. observation grid of the sequences (windows simulated at every observation)
    for k, w in enumerate(windows):
        if w not in checked or len(stored[k]) == len(points[k]):
            continue
        rows = slice(ptr[k], ptr[k + 1])
        for name in ("bsadf", "sadf", "gsadf"):
            record("sequence", f"{name}(w={w})", points[k], seq[name][rows], stored[k],
                   getattr(draws, name)[:, rows])
    # 2. sample-size grid of the distribution table, at the 90/95/99% levels
    ns = np.arange(n_lo, n_hi + 1)
    level_cols = [DIST_PROBS.index(p) for p in LEVELS]
    for s, name in enumerate(DIST_STATS):
        if name == "adf":
            exact, raw = badf_q[ns - 1], draws.badf[:, ns - 1]
        else:
            idx = np.array([band_j[int(n)] for n in ns])
            exact, raw = seq[name][idx], getattr(draws, name)[:, idx]
        if not np.allclose(exact[np.isin(ns, dn)], dist[s][:, level_cols], equal_nan=True):
            raise RuntimeError(f"lag {lag}: {name} quantiles of the two tables disagree")
        record("size", name, ns, exact, dn, raw)
    return out


def write(arrays: dict[str, np.ndarray], meta: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, meta=np.array(json.dumps(meta)), **arrays)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lags", type=int, nargs="+", default=list(TABLE_LAGS))
    ap.add_argument("--n-max", type=int, default=N_MAX)
    ap.add_argument("--reps", type=int, default=None,
                    help="replications for every lag (default: 5000 for lag 0, 2000 others)")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--out", type=Path, default=TABLE_DIR)
    ap.add_argument("--no-check", action="store_true", help="skip the interpolation checks")
    args = ap.parse_args(argv)
    total = time.perf_counter()
    for lag in args.lags:
        reps = args.reps if args.reps is not None else REPS.get(lag, 2000)
        arrays, meta = build(lag, args.n_max, reps, args.seed, check=not args.no_check)
        path = table_path(lag, args.out)
        write(arrays, meta, path)
        print(f"lag {lag}: wrote {path} ({path.stat().st_size / 1e6:.2f} MB) in "
              f"{meta['simulation_seconds']:.0f} s of simulation", flush=True)
    print(f"done in {time.perf_counter() - total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
