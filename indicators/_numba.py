"""The one place that owns numba.

Kernels are written as plain Python loops named ``*_python`` and bound once with
``name = jit(name_python)``. When numba is missing, or disabled with
``BUBBLEWATCH_DISABLE_NUMBA=1``, :func:`jit` returns a wrapper that emits a
:class:`~bubblewatch.core.errors.PerformanceWarning` once and runs the plain Python.

Parallel kernels use ``prange``; the numba threading layer runs them on threads
inside this process, so never ``fork`` after one has run (use threads or the
``spawn`` start method).
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from bubblewatch.core.errors import PerformanceWarning

F = TypeVar("F", bound=Callable[..., Any])

DISABLE_ENV = "BUBBLEWATCH_DISABLE_NUMBA"

try:  # pragma: no cover - exercised by whichever branch the environment has
    if os.environ.get(DISABLE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}:
        raise ImportError("numba disabled by " + DISABLE_ENV)
    import numba as _numba

    HAS_NUMBA = True
    prange = _numba.prange
except ImportError:  # pragma: no cover
    _numba = None
    HAS_NUMBA = False
    prange = range

_WARNED: set[str] = set()


def jit(func: F | None = None, *, parallel: bool = False, fastmath: bool | set[str] = False,
        error_model: str = "python") -> Any:
    """Compile ``func`` with ``numba.njit(cache=True)`` or fall back to Python.

    Parameters
    ----------
    func
        A plain-Python kernel taking only ndarrays and scalars.
    parallel
        Compile with ``parallel=True`` so ``prange`` loops run on all cores.
    fastmath
        ``True`` or a set of LLVM fast-math flags (``{"reassoc", "contract"}``).
        Off by default: the engines promise exact parity with reference
        implementations; use it only where results are ranked, not reported.
    error_model
        numba's ``"python"`` (division by zero raises) or ``"numpy"`` (gives
        inf/NaN, and lets LLVM vectorise loops that divide). Results of valid
        divisions are identical either way.
    """

    def wrap(f: F) -> F:
        if HAS_NUMBA:
            return _numba.njit(cache=True, parallel=parallel, fastmath=fastmath, nogil=True,
                               error_model=error_model)(f)

        @functools.wraps(f)
        def slow(*args: Any, **kwargs: Any) -> Any:
            if f.__name__ not in _WARNED:
                _WARNED.add(f.__name__)
                warnings.warn(
                    f"{f.__name__} runs as plain Python because numba is unavailable or "
                    f"disabled ({DISABLE_ENV}); results are identical but much slower.",
                    PerformanceWarning,
                    stacklevel=2,
                )
            return f(*args, **kwargs)

        return slow  # type: ignore[return-value]

    if func is None:
        return wrap
    return wrap(func)


def set_num_threads(n: int | None) -> None:
    """Limit the threads numba parallel kernels use (``None`` = all cores)."""
    if HAS_NUMBA and n is not None:
        _numba.set_num_threads(max(1, min(int(n), _numba.config.NUMBA_NUM_THREADS)))


def num_threads() -> int:
    """Threads a parallel kernel started from this thread may use: numba's
    (thread-local) setting, 1 without numba. Callers pick a serial kernel when
    it is 1 (as in compute workers, which set it to 1)."""
    return int(_numba.get_num_threads()) if HAS_NUMBA else 1
