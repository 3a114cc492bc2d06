"""Indicators: pure computations over prices, fundamentals and reference data.

``indicators.load(name, key, ...)`` reads stored results as a DataFrame (see
:mod:`indicators.api`); the registry (:mod:`indicators.registry`) lists what
``bubblewatch compute`` runs.
"""

from __future__ import annotations

from typing import Any


def load(*args: Any, **kwargs: Any) -> Any:
    """Stored results of one indicator as a DataFrame; see :func:`indicators.api.load`."""
    from indicators.api import load as _load

    return _load(*args, **kwargs)


__all__ = ["load"]
