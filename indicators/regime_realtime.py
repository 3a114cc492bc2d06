"""The high-variance state probability as it could have been read on each
date: the regime model refitted on a schedule, filtered forward in between.

The ``regime`` indicator estimates its two-state Markov-switching model of
weekly log returns (Hamilton 1989) once, on the whole sample, and stores the
*filtered* probability of the high-variance state: each week's value uses
returns up to that week, but parameters that saw the future. Here the model
is refitted on each refit date on the weekly returns known then (weeks
labelled on or before it, from ``fit_start``), and the probabilities of the
weeks up to the next refit date are filtered with those parameters. A week's
probability therefore depends only on returns up to that week and on a fit
made before it: a reading never changes when later data arrive.

:func:`hamilton_filter` is the filter of the fitted model (steady-state
initial probabilities, as statsmodels' ``MarkovRegression``), so filtering a
fit's own sample reproduces the probabilities statsmodels reports (tested).

References
----------
Hamilton, J. D. (1989), "A new approach to the economic analysis of
nonstationary time series and the business cycle", Econometrica 57(2), 357-384.
Kim, C.-J. and Nelson, C. R. (1999), State-Space Models with Regime Switching, MIT Press.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from indicators._numba import jit
from indicators.regime import RegimeFit, fit_variance_regimes

#: Fewest weekly returns a fit needs (as :func:`indicators.regime.fit_variance_regimes`).
MIN_WEEKS = 104


def hamilton_filter_python(r, mu0, mu1, sd0, sd1, p00, p11, out):
    """Filtered probability of state 1 for each return ``r[t]`` of a two-state
    model with normal returns ``N(mu_j, sd_j^2)`` and staying probabilities
    ``p00``, ``p11``; the first prediction is the chain's steady state."""
    p01 = 1.0 - p00
    p10 = 1.0 - p11
    den = p01 + p10
    prob1 = p01 / den if den > 0.0 else 0.5
    c0 = 1.0 / (sd0 * math.sqrt(2.0 * math.pi))
    c1 = 1.0 / (sd1 * math.sqrt(2.0 * math.pi))
    for t in range(r.shape[0]):
        if t > 0:
            prob1 = (1.0 - prob1) * p01 + prob1 * p11
        z0 = (r[t] - mu0) / sd0
        z1 = (r[t] - mu1) / sd1
        l0 = (1.0 - prob1) * c0 * math.exp(-0.5 * z0 * z0)
        l1 = prob1 * c1 * math.exp(-0.5 * z1 * z1)
        tot = l0 + l1
        if tot > 0.0:
            prob1 = l1 / tot
        out[t] = prob1


hamilton_filter_kernel = jit(hamilton_filter_python)


def hamilton_filter(returns: pd.Series, fit: RegimeFit) -> pd.Series:
    """Filtered high-variance probabilities of ``returns`` (weekly log returns,
    percent) under the parameters of ``fit``."""
    r = np.ascontiguousarray(returns.to_numpy(dtype=float))
    out = np.empty(r.shape[0])
    hamilton_filter_kernel(r, float(fit.means[0]), float(fit.means[1]), float(fit.vols[0]),
                           float(fit.vols[1]), float(fit.persistence[0]),
                           float(fit.persistence[1]), out)
    return pd.Series(out, index=returns.index, name="high_var_prob")


@dataclass(frozen=True, slots=True)
class Refit:
    """One scheduled refit: the date, the weekly returns it used, and the fit
    (None with ``why`` when it could not be made)."""

    date: pd.Timestamp
    weeks: int
    fit: RegimeFit | None
    why: str | None = None


def realtime_high_var_prob(returns: pd.Series, refit_dates: Sequence[pd.Timestamp], *,
                           em_iter: int = 60) -> tuple[pd.Series, list[Refit]]:
    """Point-in-time high-variance probabilities of weekly ``returns``.

    Parameters
    ----------
    returns
        Weekly log returns in percent, indexed by the week's label (its
        Friday), from the first week the model may use.
    refit_dates
        Increasing dates on which the model is refitted. The fit on date
        ``d_k`` uses the returns labelled on or before ``d_k``; the weeks
        labelled in ``(d_k, d_k+1]`` are filtered with the latest successful
        fit made on or before ``d_k``. The weeks up to the first refit date
        are filtered with its fit (they are in its sample: use the first
        refit date as the first date read).
    em_iter
        EM iterations of each fit.

    Returns
    -------
    probability, refits
        The probability of each week (NaN where no fit had been made yet)
        and what each refit did.
    """
    r = returns.dropna().sort_index()
    out = pd.Series(np.nan, index=r.index, name="high_var_prob")
    refits: list[Refit] = []
    dates = [pd.Timestamp(d) for d in refit_dates]
    current: RegimeFit | None = None
    for k, d in enumerate(dates):
        known = r[r.index <= d]
        if len(known) < MIN_WEEKS:
            refits.append(Refit(d, len(known), None, f"{len(known)} weekly returns known on "
                                f"{d.date()}; a fit needs {MIN_WEEKS}"))
        else:
            try:
                current = fit_variance_regimes(known, em_iter=em_iter)
                refits.append(Refit(d, len(known), current))
            except (ValueError, np.linalg.LinAlgError) as exc:
                refits.append(Refit(d, len(known), None, str(exc)))
        if current is None:
            continue
        nxt = dates[k + 1] if k + 1 < len(dates) else None
        upto = r if nxt is None else r[r.index <= nxt]
        probs = hamilton_filter(upto, current)
        window = np.ones(len(probs), dtype=bool) if k == 0 else (probs.index > d)
        out[probs.index[window]] = probs[window].to_numpy()
    return out, refits
