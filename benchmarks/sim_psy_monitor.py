"""False alarms and detection delays of the real-time monitors, by simulation.

Prints, for each procedure of :mod:`indicators.psy_monitor`, the nominal and
empirical false-alarm rates over a monitoring window under the random-walk
null (homoskedastic, and with a volatility shift) and the detection rate and
median delay under a simulated bubble:

* a training sample of ``--training`` observations, then ``--horizon``
  monitored dates; level 0.95, lag 0;
* null: ``y = cumsum(sigma_t e_t)``, ``e ~ N(0, 1)``; the volatility shifts
  multiply ``sigma`` by 3 from the middle of the training sample ("vol. x3
  in training": the bootstrap sees both regimes) or from the first monitored
  date ("vol. x3 at start": the critical value computed on that date has not
  seen it);
* bubble: the PSY (2015) mildly explosive process ``y_t = delta y_{t-1} +
  sigma e_t`` with ``delta = 1 + n^-0.6`` (``n`` = training + horizon),
  ``y_0 = 100``, ``sigma = 6.79``, a random walk before the bubble, which
  starts on the ``--onset``-th monitored date and lasts to the end;
* "any alarm": at least one alarm among the monitored dates (family-wise);
  "confirmed": at least one episode confirmed (``min_duration`` alarms in a
  row, 3 here); "per date": the average share of dates with an alarm;
* delay: first alarm (or confirmation) on or after the bubble's start minus
  the start, median over the replications that detect it within the window;
  "early" is the share with an alarm before the bubble started.

Usage::

    uv run python benchmarks/sim_psy_monitor.py            # 1000 replications
    uv run python benchmarks/sim_psy_monitor.py --sims 200 # quicker

The Monte Carlo standard error of a rate near 5% is printed with the table.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indicators.psy_monitor import PsyMonitorResult, monitor_ps2020, monitor_psy

MIN_DURATION = 3


def procedures(horizon: int, boot_reps: int) -> dict[str, Callable[..., PsyMonitorResult]]:
    kw = {"min_duration": MIN_DURATION}
    return {
        "PSY pointwise (table)": lambda y, tr, s: monitor_psy(y, training=tr, **kw),
        "PSY sadf rule (table)": lambda y, tr, s: monitor_psy(y, training=tr, rule="sadf",
                                                              **kw),
        "PSY pointwise + GSADF gate": lambda y, tr, s: monitor_psy(y, training=tr, gate=True,
                                                                   **kw),
        f"PS2020 Rademacher, every {horizon}": lambda y, tr, s: monitor_ps2020(
            y, training=tr, horizon=horizon, reps=boot_reps, seed=s, **kw),
        "PS2020 Rademacher, every 10": lambda y, tr, s: monitor_ps2020(
            y, training=tr, horizon=horizon, every=10, reps=boot_reps, seed=s, **kw),
        f"PS2020 normal w, every {horizon}": lambda y, tr, s: monitor_ps2020(
            y, training=tr, horizon=horizon, reps=boot_reps, seed=s, weights="normal", **kw),
    }


def null_path(rng: np.random.Generator, training: int, horizon: int,
              shift_at: int | None) -> np.ndarray:
    sigma = np.ones(training + horizon)
    if shift_at is not None:
        sigma[shift_at:] = 3.0
    return np.cumsum(sigma * rng.standard_normal(training + horizon))


def bubble_path(rng: np.random.Generator, training: int, horizon: int, onset: int) -> np.ndarray:
    n = training + horizon
    delta = 1 + n ** -0.6
    y = np.empty(n)
    y[0] = 100.0
    e = 6.79 * rng.standard_normal(n)
    start = training + onset
    for t in range(1, n):
        y[t] = (delta if t >= start else 1.0) * y[t - 1] + e[t]
    return y


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sims", type=int, default=1000)
    ap.add_argument("--training", type=int, default=100)
    ap.add_argument("--horizon", type=int, default=50)
    ap.add_argument("--onset", type=int, default=10)
    ap.add_argument("--boot-reps", type=int, default=199)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    tr, hz = args.training, args.horizon
    procs = procedures(hz, args.boot_reps)
    rng = np.random.default_rng(args.seed)
    stats = {name: {"any": 0, "conf": 0, "per_date": 0.0, "any_m": 0, "any_v": 0, "conf_v": 0,
                    "detect": [], "confirm": [], "early": 0} for name in procs}
    timing = dict.fromkeys(procs, 0.0)
    t_all = time.perf_counter()
    for i in range(args.sims):
        paths = {"null": null_path(rng, tr, hz, None), "mid": null_path(rng, tr, hz, tr // 2),
                 "vol": null_path(rng, tr, hz, tr), "bubble": bubble_path(rng, tr, hz, args.onset)}
        seed = int(rng.integers(1 << 31))
        for name, fn in procs.items():
            st = stats[name]
            t0 = time.perf_counter()
            res = {k: fn(y, tr, seed) for k, y in paths.items()}
            timing[name] += time.perf_counter() - t0
            st["any"] += bool(res["null"].alarm.any())
            st["conf"] += res["null"].first_confirmed is not None
            st["per_date"] += float(res["null"].alarm.mean())
            st["any_m"] += bool(res["mid"].alarm.any())
            st["any_v"] += bool(res["vol"].alarm.any())
            st["conf_v"] += res["vol"].first_confirmed is not None
            b = res["bubble"]
            start = tr + args.onset
            hits = b.positions[b.alarm]
            st["early"] += bool((hits < start).any())
            after = hits[hits >= start]
            if after.size:
                st["detect"].append(int(after[0]) - start)
            confs = [e.confirmed for e in b.episodes
                     if e.confirmed is not None and e.confirmed >= start]
            if confs:
                st["confirm"].append(confs[0] - start)
        if (i + 1) % max(1, args.sims // 10) == 0:
            print(f"  {i + 1}/{args.sims} replications, {time.perf_counter() - t_all:.0f} s",
                  flush=True)
    n = args.sims
    se = math.sqrt(0.05 * 0.95 / n)
    print()
    print(f"Real-time monitors: training {tr}, {hz} monitored dates, level 0.95, lag 0, "
          f"min_duration {MIN_DURATION}, {n} replications (MC s.e. of a 5% rate "
          f"{100 * se:.1f} points); bubble from monitored date {args.onset}; "
          f"bootstrap {args.boot_reps} replications")
    head = (f"{'procedure':<32}{'nominal':>8}{'any':>7}{'conf.':>7}{'/date':>7}"
            f"{'any':>8}{'any':>7}{'conf.':>7}{'found':>7}{'delay':>7}{'conf.':>7}{'early':>7}"
            f"{'s/run':>7}")
    print("null: random walk; shift A: sigma x3 from mid-training; shift B: sigma x3 from "
          "the first monitored date")
    print(f"{'':<40}{'---- null ----':>21}{'shift A':>8}{'-- shift B --':>14}"
          f"{'------ bubble ------':>28}")
    print(head)
    for name, st in stats.items():
        nominal = "5% fam" if name.startswith("PS2020") else "5%/date"
        found = len(st["detect"]) / n
        delay = f"{np.median(st['detect']):.0f}" if st["detect"] else "-"
        cdelay = f"{np.median(st['confirm']):.0f}" if st["confirm"] else "-"
        print(f"{name:<32}{nominal:>8}{100 * st['any'] / n:>6.1f}%{100 * st['conf'] / n:>6.1f}%"
              f"{100 * st['per_date'] / n:>6.1f}%{100 * st['any_m'] / n:>7.1f}%"
              f"{100 * st['any_v'] / n:>6.1f}%"
              f"{100 * st['conf_v'] / n:>6.1f}%{100 * found:>6.1f}%{delay:>7}{cdelay:>7}"
              f"{100 * st['early'] / n:>6.1f}%{timing[name] / (4 * n):>7.3f}")
    print(f"\ntotal {time.perf_counter() - t_all:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
