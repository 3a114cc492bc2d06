"""Regime and drawdown: distance from the running peak, realised volatility and
the probability of the high-variance state of a Markov-switching model.

The two states come from a Markov-switching model of weekly log returns with
state-specific mean and variance (Hamilton 1989), estimated by statsmodels'
``MarkovRegression`` (EM iterations, which reach the maximum likelihood to
well within display precision and are several times faster than the default
quasi-Newton polish). The states are named by what identifies them: the
*high-variance* state is the one with the larger variance, the
*low-variance* state the other. The high-variance state is not a crash
state: its mean return is estimated freely and is often positive (a
melt-up such as December 1999 is as volatile as a sell-off), so it is a
reading of stress, not of direction. ``high_var_prob`` is the *filtered*
probability: on each Friday it uses returns up to that week only (parameters
are estimated on the full sample of complete weeks, so it is not strictly
real-time, and refitted once a week, when a week completes); days up to the
next Friday carry the last weekly value forward. History before the last
``daily_days`` trading days is stored weekly (:func:`indicators.runup.thin`).
For a basket, ``n_members``/``coverage`` count the members in each day's
return (:func:`indicators.runup.basket_frame`).

References
----------
Hamilton, J. D. (1989), "A new approach to the economic analysis of
nonstationary time series and the business cycle", Econometrica 57(2), 357-384.
Kim, C.-J. and Nelson, C. R. (1999), State-Space Models with Regime Switching, MIT Press.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from indicators.registry import (
    Column,
    ComputeContext,
    Indicator,
    IndicatorEvent,
    IndicatorResult,
    Meta,
    Params,
)
from indicators.runup import (
    TRADING_DAYS,
    basket_frame,
    close_series,
    key_series,
    symbol_and_basket_keys,
    thin,
    trim,
)


def drawdown(price: pd.Series) -> pd.Series:
    """``price / running maximum - 1`` (0 at a new high, -0.5 half way down)."""
    p = price.astype(float)
    return (p / p.cummax() - 1.0).rename("drawdown")


def realised_vol(price: pd.Series, window: int = 63) -> pd.Series:
    """Annualised standard deviation of daily log returns over ``window`` days."""
    if window < 2:
        raise ValueError(f"window must be at least 2, got {window}")
    r = np.log(price.astype(float)).diff()
    return (r.rolling(window, min_periods=window).std(ddof=1) * np.sqrt(TRADING_DAYS)).rename(
        "realised_vol")


@dataclass(frozen=True, slots=True)
class RegimeFit:
    """A fitted two-regime model of weekly log returns (percent).

    ``high_var_prob`` is indexed by week-end date; ``means`` and ``vols`` are
    the weekly mean and standard deviation of the (low-variance,
    high-variance) states, in percent; ``persistence`` the probabilities of
    staying in each.
    """

    high_var_prob: pd.Series
    means: tuple[float, float]
    vols: tuple[float, float]
    persistence: tuple[float, float]
    loglike: float
    nobs: int


def weekly_log_returns(price: pd.Series) -> pd.Series:
    """Friday-to-Friday log returns in percent."""
    weekly = price.astype(float).resample("W-FRI").last().dropna()
    return (np.log(weekly).diff().dropna() * 100.0).rename("r")


def fit_variance_regimes(returns: pd.Series, em_iter: int = 60) -> RegimeFit:
    """Fit a 2-state switching-mean, switching-variance model to ``returns``.

    Parameters
    ----------
    returns
        Weekly log returns in percent (at least 104 observations).
    em_iter
        EM iterations (statsmodels ``fit(em_iter=..., maxiter=0)``).

    Raises
    ------
    ValueError
        If the series is too short to identify two regimes.
    """
    # the submodule alone imports in half the time of statsmodels.api
    from statsmodels.tools.sm_exceptions import ConvergenceWarning
    from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

    r = returns.dropna()
    if len(r) < 104:
        raise ValueError(f"need at least 104 weekly returns for a regime model, got {len(r)}")
    model = MarkovRegression(r.to_numpy(), k_regimes=2, trend="c", switching_variance=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        res = model.fit(em_iter=em_iter, maxiter=0, cov_type="none", disp=False)
    params = dict(zip(model.param_names, np.asarray(res.params, dtype=float), strict=True))
    var = (params["sigma2[0]"], params["sigma2[1]"])
    high = int(np.argmax(var))
    low = 1 - high
    probs = np.asarray(res.filtered_marginal_probabilities)[:, high]
    p_stay = (params["p[0->0]"], 1.0 - params["p[1->0]"])
    return RegimeFit(
        high_var_prob=pd.Series(probs, index=r.index, name="high_var_prob"),
        means=(params[f"const[{low}]"], params[f"const[{high}]"]),
        vols=(float(np.sqrt(var[low])), float(np.sqrt(var[high]))),
        persistence=(p_stay[low], p_stay[high]),
        loglike=float(res.llf),
        nobs=len(r),
    )


def regime_frame(price: pd.Series, *, vol_window: int = 63, fit_start: str | None = None,
                 em_iter: int = 60) -> tuple[pd.DataFrame, RegimeFit | None, str | None]:
    """``drawdown``, ``realised_vol`` and ``high_var_prob`` per day of ``price``.

    Returns the frame, the fit (None when it could not be made) and a note
    saying why not.
    """
    frame = pd.DataFrame({"drawdown": drawdown(price),
                          "realised_vol": realised_vol(price, vol_window)})
    weekly = weekly_log_returns(price)
    weekly = weekly[weekly.index <= price.index[-1]]  # complete weeks: refitted once a week
    if fit_start is not None:
        weekly = weekly[weekly.index >= pd.Timestamp(fit_start)]
    try:
        fit = fit_variance_regimes(weekly, em_iter=em_iter)
    except (ValueError, np.linalg.LinAlgError) as exc:
        frame["high_var_prob"] = np.nan
        return frame, None, f"high_var_prob not computed: {exc}"
    # a Friday's probability is known at that Friday's close; carry it forward
    daily = fit.high_var_prob.reindex(frame.index.union(fit.high_var_prob.index)).ffill()
    frame["high_var_prob"] = daily.reindex(frame.index)
    return frame, fit, None


def high_variance_spells(high_var_prob: pd.Series, threshold: float = 0.5,
                         min_weeks: int = 4) -> list[IndicatorEvent]:
    """Spells of at least ``min_weeks`` weeks with weekly ``high_var_prob > threshold``
    (event kind ``"high_variance"``)."""
    weekly = high_var_prob.dropna()
    high = weekly.to_numpy() > threshold
    if not high.any():
        return []
    edges = np.flatnonzero(np.diff(np.r_[0, high.astype(int), 0]))
    out = []
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        if b - a < min_weeks:
            continue
        ongoing = b == len(high)
        out.append(IndicatorEvent(
            kind="high_variance", start=weekly.index[a].date(),
            end=None if ongoing else weekly.index[b - 1].date(), ongoing=bool(ongoing),
            attrs={"weeks": int(b - a), "max_prob": float(weekly.iloc[a:b].max())},
        ))
    return out


class RegimeParams(Params):
    """Parameters of the regime & drawdown indicator."""

    vol_window: int = Field(63, ge=2, description="realised-volatility window, trading days")
    fit_start: date | None = Field(date(1985, 1, 1), description="first week used to fit the "
                                   "regime model (None: all)")
    em_iter: int = Field(60, ge=1, description="EM iterations of the Markov-switching fit")
    high_var_threshold: float = Field(0.5, gt=0, lt=1, description="high-variance "
                                      "probability above which a week counts as in that state")
    min_weeks: int = Field(4, ge=1, description="shortest high-variance spell reported, weeks")
    start: date | None = Field(date(1995, 1, 1), description="first stored date (None: all)")
    daily_days: int = Field(504, ge=0, description="the last this many trading days are stored "
                            "daily, earlier ones weekly (0: all daily)")


class RegimeStates(BaseModel):
    """One figure for each state of the two-regime model."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    low_variance: float
    high_variance: float


class RegimeMeta(Meta):
    """What is stored beside each key's regime series."""

    max_drawdown: float | None = None
    peak_date: date | None = None
    weekly_mean_pct: RegimeStates | None = None
    weekly_vol_pct: RegimeStates | None = None
    persistence: RegimeStates | None = None
    loglike: float | None = None
    weeks: int | None = None
    probability: str | None = None
    last_date: date | None = None
    drawdown: float | None = None
    high_var_prob: float | None = None
    members: list[str] = Field(default_factory=list)


def compute(ctx: ComputeContext, key: str, params: RegimeParams) -> IndicatorResult[RegimeMeta]:
    basket = None
    if key in ctx.universe.baskets:
        members = list(ctx.universe.baskets[key])
        basket = basket_frame({m: close_series(ctx.source, m) for m in members})
        price = basket["level"].rename(key)
    else:
        price = key_series(ctx.source, ctx.universe, key)
    if price.empty:
        return IndicatorResult(pd.DataFrame(), RegimeMeta(
            missing=f"no prices for {key}: load them with `bubblewatch ingest`"))
    frame, fit, note = regime_frame(
        price, vol_window=params.vol_window,
        fit_start=None if params.fit_start is None else params.fit_start.isoformat(),
        em_iter=params.em_iter)
    if basket is not None:
        frame["n_members"] = basket["n_members"].reindex(frame.index)
        frame["coverage"] = frame["n_members"] / len(members)
    fields: dict[str, Any] = {"max_drawdown": float(frame["drawdown"].min()),
                              "peak_date": price.idxmax().date()}
    if basket is not None:
        fields["members"] = members
    events: list[IndicatorEvent] = []
    if fit is None:
        fields["note"] = note
    else:
        fields.update({
            "weekly_mean_pct": RegimeStates(low_variance=fit.means[0],
                                            high_variance=fit.means[1]),
            "weekly_vol_pct": RegimeStates(low_variance=fit.vols[0], high_variance=fit.vols[1]),
            "persistence": RegimeStates(low_variance=fit.persistence[0],
                                        high_variance=fit.persistence[1]),
            "loglike": fit.loglike, "weeks": fit.nobs,
            "probability": "filtered (uses returns up to each week; full-sample parameters)",
        })
        events = high_variance_spells(fit.high_var_prob, params.high_var_threshold,
                                      params.min_weeks)
    last = frame.dropna(how="all").iloc[-1]
    fields.update({"last_date": frame.index[-1].date(), "drawdown": float(last["drawdown"]),
                   "high_var_prob": None if pd.isna(last["high_var_prob"])
                   else float(last["high_var_prob"])})
    out = thin(trim(frame, params.start).dropna(how="all"), params.daily_days)
    return IndicatorResult(out, RegimeMeta(**fields), tuple(events))


INDICATOR = Indicator(
    name="regime",
    title="Regime & drawdown",
    description=(
        "Drawdown from the running peak, 63-day realised volatility, and the filtered "
        "probability of the high-variance state of a two-state Markov-switching model of "
        "weekly returns (Hamilton 1989; statsmodels MarkovRegression). The high-variance "
        "state is volatility, not direction: its mean return can be positive (melt-ups)."
    ),
    columns={
        "drawdown": Column("Drawdown from peak", "fraction, -0.5 = half way down",
                           "adjusted close / running maximum - 1 (0 at a new high)"),
        "realised_vol": Column("Realised volatility", "fraction a year",
                               "annualised standard deviation of daily log returns over the "
                               "volatility window"),
        "high_var_prob": Column("High-variance state probability", "probability 0-1",
                                "filtered probability of the high-variance state of a "
                                "two-state model of weekly returns (carried forward to days)"),
        "n_members": Column("Basket members in the day's return", "count",
                            "(baskets) members with a return that day"),
        "coverage": Column("Basket coverage", "fraction 0-1",
                           "(baskets) members in the day's return / declared members"),
    },
    params=RegimeParams,
    meta=RegimeMeta,
    keys=symbol_and_basket_keys,
    compute=compute,
    page="",
    sampling="daily for the last two years, weekly (last trading day) before",
    incremental=True,
)
