"""Shipped Monte Carlo critical values of the PSY explosiveness tests.

Precomputed null distributions of the recursive ADF statistics of Phillips,
Shi & Yu (2015) for the PSY minimum window ``w(n) = floor((0.01 + 1.8 /
sqrt(n)) n)``, fixed lags 0-4 and every sample size from the smallest the
test accepts up to 5031 (the last sample size with the window of 5000), so
that :func:`indicators.cv.mc_cv`, the real-time monitor
(:mod:`indicators.psy_monitor`) and :func:`psy_pvalue` need no simulation.

Files
-----
``psy_lag{K}.npz`` (one per lag, float32) beside the script that made them,
:mod:`indicators.critical_values.generate` (``uv run python -m
indicators.critical_values.generate``; seeded, prints its progress and its
accuracy checks). Each holds:

* the 90/95/99% quantiles of BADF at every observation (one sequence: BADF
  does not depend on the window);
* for every PSY window ``w``, the 90/95/99% quantiles of the BSADF statistic
  at observation ``t`` and of the SADF and GSADF statistics of the sample
  ``y[0..t]``: at every ``t = n - 1`` whose sample size ``n`` has window ``w``
  (so every whole-sample and every real-time critical value is an exact
  entry), at the first 16 observations of the window, and on a geometric
  grid (ratio 1.04) in between, read by linear interpolation when
  :func:`~indicators.cv.mc_cv` needs the whole date-stamping sequence;
* the distribution of ADF, SADF, GSADF and of the BSADF at the last
  observation at 23 probabilities from 0.01 to 0.999, for sample sizes on a
  geometric grid (ratio 1.03, about 200 sizes), for p-values.

How they were simulated
-----------------------
One simulation per lag holds every sample size: a BSADF point only uses data
up to its date, so random walks of length 5031 give the exact distribution of
every statistic of every shorter sample, and the kernel
:func:`indicators._psy_kernels.window_family` computes the BSADF sequences of
all windows ``w(n_min) .. w(5031)`` of a path in one pass (windows of 177 rows
or more as in :func:`~indicators.psy.radf`, shorter ones from a strip of
window starts). Replications: 5000 for lag 0, 2000 for lags 1-4;
``numpy.random.default_rng([20150401, lag])``, time-major random walks.

Accuracy
--------
Monte Carlo: the standard error of a stored 95% value (binomial order
statistics, median over sample sizes) is 0.019-0.029 for lag 0 (5000
replications) and 0.027-0.048 for lags 1-4 (2000), about twice that at 99%.
Interpolation adds far less (the generator's checks, which simulate every
observation of three windows per lag and every sample size): the curvature
bias of reading the observation grid linearly is at most 0.0066 (0.24 s.e.,
median well under 0.1) and of the sample-size grid at most 0.0051 (0.09
s.e.); the root-mean-square difference between an interpolated value and the
one simulated at that point is at most 1.03 s.e., i.e. the Monte Carlo noise
of the pointwise value itself. The tables agree with fresh simulations and
with exuber's ``radf_mc_cv`` within four standard errors
(``tests/indicators/test_critical_values.py``).

Size and cost: 2.6 MB in all; the generation took 51 minutes (about 3000 s of
simulation) on two busy cores at ``nice -n 15``.

References
----------
Phillips, P. C. B., Shi, S. & Yu, J. (2015). Testing for multiple bubbles:
Historical episodes of exuberance and collapse in the S&P 500. *International
Economic Review*, 56(4), 1043-1078.
"""

from indicators.critical_values.tables import (
    load_table,
    psy_critical_value,
    psy_pvalue,
)

__all__ = ["load_table", "psy_critical_value", "psy_pvalue"]
