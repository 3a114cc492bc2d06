"""Registry of the indicators that ``bubblewatch compute`` runs.

An indicator is a pure function of data handed to it through a
:class:`DataSource` (prices, point-in-time fundamentals, reference figures and
earlier indicator results). It never touches the database itself: the compute
job (:mod:`indicators.compute`) loads the inputs, calls the function and stores
the :class:`IndicatorResult` it returns.

Each indicator module defines one module-level ``INDICATOR`` (or several, in a
tuple called ``INDICATORS``) and is listed in :data:`BUILTIN_MODULES`; modules
are imported lazily the first time the registry is read, so importing
:mod:`indicators` stays cheap.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

import pandas as pd

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

#: Modules that define built-in indicators, in dependency order.
BUILTIN_MODULES: list[str] = [
    "indicators.runup",
    "indicators.regime",
    "indicators.analog",
    "indicators.capex",
    "indicators.revenue_gap",
    "indicators.earnings_quality",
    "indicators.valuation",
    "indicators.psy_indicator",
    "indicators.lppls_indicator",
    "indicators.composite",
]


class DataSource(Protocol):
    """Read-only inputs for indicators. Implemented over the database by the
    compute job and over plain DataFrames in tests (:class:`FrameSource`)."""

    def prices(self, symbol: str) -> pd.DataFrame:
        """Daily bars, ``DatetimeIndex`` named ``date`` (ascending, tz-naive),
        columns ``open, high, low, close, adj_close, volume``. Empty if none."""
        ...

    def facts(self, symbol: str, as_of: date | None = None) -> pd.DataFrame:
        """Every fundamentals fact known on ``as_of`` (all vintages if None):
        columns ``concept, period_start, period_end, value, unit, fiscal_year,
        fiscal_period, form, filed, accession, source``."""
        ...

    def reference(self) -> pd.DataFrame:
        """Built-in reference figures (dot-com era), one row per figure."""
        ...

    def events(self) -> pd.DataFrame:
        """Dated events (anchors and chart notes): ``date, key, title, era``."""
        ...

    def indicator(self, name: str, key: str) -> pd.DataFrame:
        """A stored indicator result as a wide frame (``DatetimeIndex``, one column
        per field); empty if it was never computed."""
        ...


@dataclass(frozen=True, slots=True)
class IndicatorEvent:
    """A dated episode an indicator found (PSY episode, run-up spell, regime).

    ``kind`` names what it is (``"positive"``, ``"negative"``, ``"runup"``...);
    ``end`` is None while ``ongoing``.
    """

    kind: str
    start: date
    end: date | None
    peak: date | None = None
    ongoing: bool = False
    attrs: Mapping[str, float | int | str | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    """What an indicator returns for one key.

    ``frame`` has a ``DatetimeIndex`` and one float column per field; NaN values
    are not stored. ``events`` are episodes; ``meta`` holds scalars and small
    JSON-able facts (test statistics, critical values, notes on missing inputs).
    """

    frame: pd.DataFrame
    events: tuple[IndicatorEvent, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ComputeContext:
    """Everything an indicator's ``compute`` gets besides its key and params.

    ``since`` is the last date already stored for this (indicator, key, params),
    so incremental indicators can compute only newer dates; rows they return
    for older dates are upserted harmlessly.
    """

    source: DataSource
    universe: Universe
    since: date | None = None


ComputeFn = Callable[[ComputeContext, str, Mapping[str, Any]], IndicatorResult]
KeysFn = Callable[["Universe"], Sequence[str]]


@dataclass(frozen=True, slots=True)
class Indicator:
    """A registered indicator.

    Parameters
    ----------
    name
        Stable identifier used in the database, CLI and exports (``"psy"``).
    title
        Human title for the dashboard and ``bubblewatch indicators``.
    description
        One paragraph: what it measures, with the reference.
    columns
        Field name -> description including its unit.
    defaults
        Default parameters; a run's parameters are ``defaults | overrides``.
    keys
        Which keys (symbols or basket names) to compute for a universe.
    compute
        ``compute(ctx, key, params) -> IndicatorResult``; pure.
    depends_on
        Names of indicators whose stored results ``compute`` reads.
    incremental
        Whether ``compute`` honours ``ctx.since``.
    optional_keys
        Keys computed only when asked for by name (``compute --symbols``),
        e.g. every symbol for an indicator whose default run covers a few.
    """

    name: str
    title: str
    description: str
    columns: Mapping[str, str]
    defaults: Mapping[str, Any]
    keys: KeysFn
    compute: ComputeFn
    depends_on: tuple[str, ...] = ()
    incremental: bool = False
    optional_keys: KeysFn | None = None

    def params(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults merged with ``overrides``; unknown names are refused."""
        merged = dict(self.defaults)
        for k, v in (overrides or {}).items():
            if k not in self.defaults:
                raise ValueError(
                    f"indicator {self.name!r} has no parameter {k!r}; "
                    f"known parameters: {', '.join(sorted(self.defaults)) or 'none'}"
                )
            merged[k] = v
        return merged


def params_hash(params: Mapping[str, Any]) -> str:
    """Short stable hash of canonical JSON parameters (key order ignored)."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_REGISTRY: dict[str, Indicator] = {}
_LOADED = False


def register(indicator: Indicator) -> Indicator:
    """Add ``indicator`` to the registry (replacing one of the same name)."""
    _REGISTRY[indicator.name] = indicator
    return indicator


def _load_builtins() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for module_name in BUILTIN_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # not written yet: skip quietly
                continue
            raise
        for ind in getattr(module, "INDICATORS", ()) or ():
            register(ind)
        if hasattr(module, "INDICATOR"):
            register(module.INDICATOR)


def get(name: str) -> Indicator:
    """The indicator called ``name``; ``KeyError`` lists the known names."""
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"unknown indicator {name!r}; known: {', '.join(sorted(_REGISTRY))}"
        ) from None


def all_indicators() -> list[Indicator]:
    """Every registered indicator, dependencies before dependants."""
    _load_builtins()
    ordered: list[Indicator] = []
    seen: set[str] = set()

    def visit(ind: Indicator) -> None:
        if ind.name in seen:
            return
        seen.add(ind.name)
        for dep in ind.depends_on:
            if dep in _REGISTRY:
                visit(_REGISTRY[dep])
        ordered.append(ind)

    for ind in _REGISTRY.values():
        visit(ind)
    return ordered
