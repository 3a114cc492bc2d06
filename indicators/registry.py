"""The registry: the one list of indicators, with everything other packages
need to know about each.

An indicator is a pure function of data handed to it through a
:class:`DataSource` (prices, point-in-time fundamentals, reference figures and
earlier indicator results). It never touches the database itself: the compute
job (:mod:`indicators.compute`) loads the inputs, calls the function and stores
the :class:`IndicatorResult` it returns.

Each indicator module defines one module-level ``INDICATOR`` (or several, in a
tuple called ``INDICATORS``). Every module of the :mod:`indicators` package is
scanned for them the first time the registry is read, so adding an indicator
touches three files: its module, its test and its line in the README. A module
that fails to import is an error at once, never skipped.

The contract between an indicator and its readers (compute job, CLI, export,
alerts, dashboard) is typed:

* parameters are a :class:`Params` model (pydantic, frozen, unknown names
  refused), validated once before any data is read;
* stored metadata is a :class:`Meta` model, validated when the result is made
  and again when it is read back;
* every stored field is a :class:`Column` with a label, a unit and a one-line
  explanation for people (the dashboard, e-mails, Slack and export headers
  use them);
* ``page`` names the dashboard page that shows the indicator; alert links
  derive from it.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from bubblewatch.core.errors import ConfigError

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe

#: Dashboard pages an indicator can name as its home (``url_path`` of the page;
#: ``""`` is the Overview). The dashboard builds its navigation from the same
#: slugs and a test checks that every one exists there.
PAGES: dict[str, str] = {
    "": "Overview",
    "analog": "AI vs dot-com",
    "explosiveness": "Explosiveness",
    "lppls": "LPPLS",
    "capex": "Capex & revenue gap",
    "valuation": "Valuation & vendor financing",
    "shocks": "Policy & shocks",
    "track_record": "Track record",
}


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


class Params(BaseModel):
    """Base of every indicator's parameters: frozen, unknown names refused.

    Subclasses declare each parameter with its type, default and a
    ``Field(description=...)`` that says what it does, with its unit.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


class Meta(BaseModel):
    """Base of every indicator's stored metadata for one key.

    ``missing`` says why a result is empty or partial *and what would fill
    it*; ``note`` is any other remark for people.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    missing: str | None = None
    note: str | None = None


P = TypeVar("P", bound=Params)
M = TypeVar("M", bound=Meta)


@dataclass(frozen=True, slots=True)
class Column:
    """One stored field, for people.

    ``label`` is a short name ("Two-year return"), ``unit`` the unit in words
    ("fraction, 1.0 = +100%", "USD m", "days", "t-statistic"), and
    ``description`` one line on what it is.
    """

    label: str
    unit: str
    description: str

    @property
    def text(self) -> str:
        """``"label (unit): description"``, for help texts and export metadata."""
        return f"{self.label} ({self.unit}): {self.description}"


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
class IndicatorResult(Generic[M]):
    """What an indicator returns for one key.

    ``frame`` has a ``DatetimeIndex`` and one float column per field; NaN values
    are not stored. ``events`` are episodes; ``meta`` is the indicator's
    :class:`Meta` model (test statistics, critical values, notes on missing
    inputs).
    """

    frame: pd.DataFrame
    meta: M
    events: tuple[IndicatorEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class ComputeContext:
    """Everything an indicator's ``compute`` gets besides its key and params.

    ``since`` is the last date already stored for this (indicator, key, params),
    so incremental indicators can compute only newer dates; rows they return
    for older dates are upserted harmlessly. ``cache_dir`` is where an
    indicator may keep results that cost time to make and never change (under
    the configured data folder); None means keep nothing.
    """

    source: DataSource
    universe: Universe
    since: date | None = None
    #: A folder for reusable intermediate results (simulated critical values);
    #: None caches nothing. The compute job passes the configured cache folder.
    cache_dir: Path | None = None


KeysFn = Callable[["Universe"], Sequence[str]]


@dataclass(frozen=True, slots=True)
class Indicator(Generic[P, M]):
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
        Field name -> :class:`Column` (label, unit, explanation).
    params
        The :class:`Params` model; its defaults are the default run.
    meta
        The :class:`Meta` model of what is stored beside each key's series.
    keys
        Which keys (symbols or basket names) to compute for a universe.
    compute
        ``compute(ctx, key, params) -> IndicatorResult``; pure.
    page
        Slug of the dashboard page that shows it (a key of :data:`PAGES`).
    sampling
        How often rows are dated, in words (and where that changes).
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
    columns: Mapping[str, Column]
    params: type[P]
    meta: type[M]
    keys: KeysFn
    compute: Callable[[ComputeContext, str, P], IndicatorResult[M]]
    page: str
    sampling: str
    depends_on: tuple[str, ...] = ()
    incremental: bool = False
    optional_keys: KeysFn | None = None

    def __post_init__(self) -> None:
        if self.page not in PAGES:
            raise ValueError(f"indicator {self.name!r}: page {self.page!r} is not a dashboard "
                             f"page; known: {', '.join(repr(p) for p in PAGES)}")
        if not self.columns:
            raise ValueError(f"indicator {self.name!r} declares no columns")

    @property
    def defaults(self) -> P:
        """The default parameters."""
        return self.params()

    def parse_params(self, overrides: Mapping[str, Any] | None = None) -> P:
        """Defaults with ``overrides`` applied, validated.

        Raises
        ------
        ConfigError
            Naming the indicator, each bad parameter, what was given and what
            is allowed (unknown names list the known ones).
        """
        try:
            return self.params(**dict(overrides or {}))
        except ValidationError as exc:
            raise ConfigError(_params_problem(self, exc)) from None

    def make_meta(self, **fields: Any) -> M:
        """A :class:`Meta` of this indicator (validation errors name the indicator)."""
        try:
            return self.meta(**fields)
        except ValidationError as exc:
            raise TypeError(f"indicator {self.name!r} produced invalid metadata: {exc}") from None

    def read_meta(self, stored: Mapping[str, Any] | None) -> M:
        """Stored metadata (as written by the compute job) back as the typed model.

        Raises
        ------
        ConfigError
            When the stored metadata was written by an older version; says to
            recompute.
        """
        try:
            return self.meta.model_validate(dict(stored or {}))
        except ValidationError as exc:
            raise ConfigError(
                f"stored metadata of indicator {self.name!r} does not match this version "
                f"({exc.error_count()} problem(s), first: {exc.errors()[0]['msg']} at "
                f"{'.'.join(map(str, exc.errors()[0]['loc']))}); recompute it with "
                f"`bubblewatch compute {self.name} --full`"
            ) from None

    def column(self, name: str) -> Column:
        """The :class:`Column` of field ``name``; ``KeyError`` lists the known ones."""
        try:
            return self.columns[name]
        except KeyError:
            raise KeyError(f"indicator {self.name!r} has no field {name!r}; "
                           f"known: {', '.join(self.columns)}") from None


def _params_problem(ind: Indicator[Any, Any], exc: ValidationError) -> str:
    known = ", ".join(ind.params.model_fields) or "none"
    parts = []
    for err in exc.errors():
        name = ".".join(str(x) for x in err["loc"]) or "?"
        if err["type"] == "extra_forbidden":
            parts.append(f"no parameter {name!r} (known parameters: {known})")
        else:
            given = err.get("input")
            parts.append(f"parameter {name!r}: {err['msg']} (given {given!r})")
    return f"indicator {ind.name!r}: " + "; ".join(parts)


def params_dict(params: Params) -> dict[str, Any]:
    """Parameters as plain JSON values (what is stored beside each result)."""
    return params.model_dump(mode="json")


def params_hash(params: Params | Mapping[str, Any]) -> str:
    """Short stable hash of canonical JSON parameters (key order ignored)."""
    plain = params_dict(params) if isinstance(params, Params) else dict(params)
    text = json.dumps(plain, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


_REGISTRY: dict[str, Indicator[Any, Any]] = {}
_LOADED = False


def register(indicator: Indicator[Any, Any]) -> Indicator[Any, Any]:
    """Add ``indicator`` to the registry; a second one with the same name is refused."""
    other = _REGISTRY.get(indicator.name)
    if other is not None and other is not indicator:
        raise ValueError(f"two indicators are called {indicator.name!r}")
    _REGISTRY[indicator.name] = indicator
    return indicator


def _load_builtins() -> None:
    global _LOADED
    if _LOADED:
        return
    import indicators

    found: list[Indicator[Any, Any]] = []
    for info in sorted(pkgutil.iter_modules(indicators.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.ispkg:
            continue
        module = importlib.import_module(f"indicators.{info.name}")
        found.extend(getattr(module, "INDICATORS", ()) or ())
        if hasattr(module, "INDICATOR"):
            found.append(module.INDICATOR)
    for ind in found:
        register(ind)
    _LOADED = True


def get(name: str) -> Indicator[Any, Any]:
    """The indicator called ``name``.

    Raises
    ------
    ConfigError
        Listing the known names.
    """
    _load_builtins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown indicator {name!r}; known: {', '.join(sorted(_REGISTRY))} "
            "(see `bubblewatch indicators`)"
        ) from None


def all_indicators() -> list[Indicator[Any, Any]]:
    """Every registered indicator, dependencies before dependants (then by name)."""
    _load_builtins()
    ordered: list[Indicator[Any, Any]] = []
    seen: set[str] = set()

    def visit(ind: Indicator[Any, Any]) -> None:
        if ind.name in seen:
            return
        seen.add(ind.name)
        for dep in ind.depends_on:
            if dep not in _REGISTRY:
                raise ConfigError(f"indicator {ind.name!r} depends on {dep!r}, "
                                  "which is not registered")
            visit(_REGISTRY[dep])
        ordered.append(ind)

    for name in sorted(_REGISTRY):
        visit(_REGISTRY[name])
    return ordered
