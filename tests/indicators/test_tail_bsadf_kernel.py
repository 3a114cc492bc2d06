"""The tail BSADF kernel behind the Phillips-Shi horizon bootstrap
(:func:`indicators._psy_kernels.tail_bsadf_lag0`): the same numbers as the
full BSADF sequences of :func:`~indicators._psy_kernels.sequences_serial`
(and as :func:`~indicators.psy.radf`), numba and plain Python alike."""

from __future__ import annotations

import numpy as np

from indicators import _psy_kernels as k
from indicators.psy import radf


def test_tail_equals_the_full_sequences_and_plain_python() -> None:
    rng = np.random.default_rng(8)
    paths = np.cumsum(rng.standard_normal((5, 240)), axis=1)
    paths[2, 100:150] = paths[2, 99]  # a flat stretch: windows inside it are skipped
    minw, ntail = 21, 35
    npts = paths.shape[1] - minw
    bs, bd = np.empty((5, npts)), np.empty((5, npts))
    k.sequences_serial(paths, minw, 0, k.IC_FIXED, bs, bd)
    tail = np.empty((5, ntail))
    k.tail_bsadf_lag0(paths, minw, ntail, tail)
    np.testing.assert_allclose(tail, bs[:, -ntail:], rtol=1e-9, atol=1e-12)
    plain = np.empty((5, ntail))
    k.tail_bsadf_lag0_python(paths, minw, ntail, plain)
    np.testing.assert_allclose(plain, tail, rtol=1e-12)
    np.testing.assert_allclose(tail[0], radf(paths[0], minw, 0).bsadf[-ntail:], rtol=1e-9)
