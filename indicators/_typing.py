"""Array aliases used by the numerical kernels."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Float64Array = NDArray[np.float64]
Float64Array1D = NDArray[np.float64]
Float64Array2D = NDArray[np.float64]
Int64Array = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
