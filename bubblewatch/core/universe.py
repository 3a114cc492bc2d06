"""The universe: which instruments bubblewatch watches, grouped into cohorts.

Defaults follow the product brief. Users override the whole universe, or parts
of it, in the ``[universe]`` table of the TOML settings file, and add index
members or watchlists from universe files (:mod:`bubblewatch.core.universe_files`:
``file = "sp500.csv"`` or ``name = "sp500"`` for one stored by
``bubblewatch universe add``).

Membership is dated: a symbol of a universe file is a member from ``joined``
(inclusive) until ``left`` (exclusive), so a backtest never puts a symbol in a
basket before it joined the index (:meth:`Universe.members_on`). Instruments
without membership records (the defaults) are members on every date.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from bubblewatch.core.errors import ConfigError

AI = "ai"
DOTCOM = "dotcom"
INDEX = "index"

#: People's names of the cohorts (also the keys of cohort-level results such as
#: the composite score), with one line on what each holds.
COHORT_LABELS: dict[str, tuple[str, str]] = {
    AI: ("AI cycle", "the companies building and selling the AI data-centre build-out"),
    DOTCOM: ("Dot-com cycle", "the telecom and internet-equipment leaders of 1995-2002"),
    INDEX: ("Market indices", "broad indices used as the market benchmark"),
}

#: People's names of the default baskets and of keys that name a group rather than one
#: instrument (capex totals, telecom reference series).
GROUP_LABELS: dict[str, tuple[str, str]] = {
    "ai_basket": ("AI basket", "equal-weighted AI-cycle companies"),
    "dotcom_basket": ("Dot-com basket", "equal-weighted dot-com leaders"),
    "hyperscalers": ("Hyperscalers", "Microsoft, Alphabet, Amazon, Meta and Oracle together"),
    "telecom": ("Telecom carriers", "carrier capex 1996-2004 from cited reference figures"),
    "telecom_carriers": ("Telecom carriers", "carrier capex from cited reference figures"),
}


@dataclass(frozen=True, slots=True)
class Instrument:
    """One watched symbol.

    ``fiscal_year_end`` is the month (1-12) in which the company's fiscal year
    usually ends, for display only: periods are always keyed on their real
    start and end dates from the filings. ``exchange`` is the ISO 10383 code
    of the exchange whose trading calendar dates its prices (see
    :mod:`bubblewatch.core.calendar`); US listings follow the NYSE's, ``XNYS``.
    """

    symbol: str
    name: str
    cohorts: tuple[str, ...]
    cik: int | None = None
    fiscal_year_end: int = 12
    fiscal_year_note: str = "calendar year"
    listed: date | None = None
    is_index: bool = False
    exchange: str = "XNYS"

    @property
    def file_stem(self) -> str:
        """File name stem for price files: ``^IXIC`` -> ``IXIC``."""
        return self.symbol.lstrip("^")


@dataclass(frozen=True, slots=True)
class AnalogPair:
    """Two things compared along aligned paths: ``ai`` today vs ``dotcom`` then."""

    name: str
    ai: str
    dotcom: str
    kind: str = "price"  # "price", "basket", "capex", "financing"
    description: str = ""


@dataclass(frozen=True, slots=True)
class Membership:
    """One span of a symbol's membership of a universe: from ``joined``
    (inclusive; None: always) until ``left`` (exclusive; None: still a member)."""

    symbol: str
    joined: date | None = None
    left: date | None = None

    def covers(self, day: date) -> bool:
        """Whether the symbol is a member on ``day``."""
        return (self.joined is None or self.joined <= day) and (self.left is None
                                                               or day < self.left)


@dataclass(frozen=True, slots=True)
class Universe:
    """The watched instruments, their baskets and analog pairs.

    ``name`` names the universe file the members came from (``"default"``
    without one); ``memberships`` are the dated spans of that file's members
    (see :meth:`members_on`).
    """

    instruments: tuple[Instrument, ...]
    analog_pairs: tuple[AnalogPair, ...] = ()
    market_index: str = "^GSPC"
    baskets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    name: str = "default"
    memberships: tuple[Membership, ...] = ()
    #: Lookup tables built on first use (symbol -> instrument, spans per symbol).
    _lookup: dict[str, Any] = field(default_factory=dict, init=False, compare=False,
                                   repr=False)

    def _index(self) -> dict[str, Any]:
        if not self._lookup:
            by_name: dict[str, str] = {}
            for ins in self.instruments:
                by_name.setdefault(ins.file_stem.upper(), ins.symbol)
            for ins in self.instruments:
                by_name[ins.symbol.upper()] = ins.symbol
            spans: dict[str, list[Membership]] = {}
            for m in self.memberships:
                spans.setdefault(m.symbol, []).append(m)
            self._lookup.update(
                symbol={i.symbol: i for i in self.instruments}, name=by_name,
                spans={k: tuple(v) for k, v in spans.items()})
        return self._lookup

    def _unknown(self, symbol: str) -> KeyError:
        shown = ", ".join(self.symbols[:30])
        more = f" and {len(self.symbols) - 30} more" if len(self.symbols) > 30 else ""
        return KeyError(f"{symbol!r} is not in the universe; known: {shown}{more}")

    def get(self, symbol: str) -> Instrument:
        try:
            return self._index()["symbol"][symbol]
        except KeyError:
            raise self._unknown(symbol) from None

    def resolve(self, symbol: str) -> str:
        """Canonical symbol for a user-typed or file-derived name (``IXIC`` -> ``^IXIC``),
        case-insensitive. Raises ``KeyError`` if unknown."""
        try:
            return self._index()["name"][symbol.strip().upper()]
        except KeyError:
            raise self._unknown(symbol) from None

    def membership(self, symbol: str) -> tuple[Membership, ...]:
        """The dated membership spans of ``symbol`` (empty: a member on every date)."""
        return self._index()["spans"].get(symbol, ())

    def is_member(self, symbol: str, day: date) -> bool:
        """Whether ``symbol`` belongs to the universe on ``day``."""
        spans = self.membership(symbol)
        return symbol in self._index()["symbol"] and (
            not spans or any(m.covers(day) for m in spans))

    def members_on(self, day: date) -> list[str]:
        """Symbols that are members on ``day``, in universe order: instruments
        without membership records always, the others inside a span
        (``joined <= day < left``)."""
        return [i.symbol for i in self.instruments if self.is_member(i.symbol, day)]

    @property
    def symbols(self) -> list[str]:
        return [i.symbol for i in self.instruments]

    def cohort(self, name: str) -> list[str]:
        return [i.symbol for i in self.instruments if name in i.cohorts]

    @property
    def stocks(self) -> list[str]:
        return [i.symbol for i in self.instruments if not i.is_index]

    @property
    def with_cik(self) -> list[Instrument]:
        return [i for i in self.instruments if i.cik is not None]

    def label(self, key: str, *, long: bool = False) -> str:
        """A key (symbol, basket, cohort, analog pair) as people call it.

        Symbols stay symbols (``"NVDA"``); ``long=True`` adds the name
        (``"NVIDIA (NVDA)"``). Baskets and cohorts use :data:`GROUP_LABELS` and
        :data:`COHORT_LABELS`, analog pairs read ``"NVDA vs CSCO"``. A basket
        defined only in the settings file is named after its key in words
        (``"my_chips"`` -> ``"My chips"``).
        """
        for ins in self.instruments:
            if ins.symbol == key:
                return f"{ins.name} ({ins.symbol})" if long and ins.name != ins.symbol else key
        if key in COHORT_LABELS:
            return COHORT_LABELS[key][0]
        if key in GROUP_LABELS:
            return GROUP_LABELS[key][0]
        for pair in self.analog_pairs:
            if pair.name == key:
                return f"{self.label(pair.ai)} vs {self.label(pair.dotcom)}"
        if key in self.baskets:
            return key.replace("_", " ").capitalize()
        return key

    def subset(self, symbols: Iterable[str]) -> Universe:
        wanted = {self.resolve(s) for s in symbols}
        return replace(self, instruments=tuple(i for i in self.instruments if i.symbol in wanted),
                       memberships=tuple(m for m in self.memberships if m.symbol in wanted))

    def with_members(self, name: str, instruments: Sequence[Instrument],
                     memberships: Sequence[Membership]) -> Universe:
        """This universe plus the members of universe file ``name``: new symbols
        are appended; a symbol already here keeps its record and gains the
        file's cohorts (and its CIK when it had none)."""
        own = {i.symbol: i for i in self.instruments}
        added: list[Instrument] = []
        for ins in instruments:
            old = own.get(ins.symbol)
            if old is None:
                added.append(ins)
                continue
            cohorts = tuple(dict.fromkeys([*old.cohorts, *ins.cohorts]))
            own[ins.symbol] = replace(old, cohorts=cohorts,
                                      cik=old.cik if old.cik is not None else ins.cik)
        merged = tuple(own[i.symbol] for i in self.instruments) + tuple(added)
        return replace(self, instruments=merged, name=name,
                       memberships=tuple(memberships))


def _i(symbol: str, name: str, cohorts: Sequence[str], cik: int | None = None, fye: int = 12,
       note: str = "calendar year", listed: str | None = None, is_index: bool = False) -> Instrument:
    return Instrument(symbol, name, tuple(cohorts), cik, fye, note,
                      date.fromisoformat(listed) if listed else None, is_index)


DEFAULT_INSTRUMENTS: tuple[Instrument, ...] = (
    _i("NVDA", "NVIDIA", [AI], 1045810, 1, "last Sunday of January"),
    _i("CRWV", "CoreWeave", [AI], 1769628, 12, listed="2025-03-28"),
    _i("MSFT", "Microsoft", [AI, DOTCOM], 789019, 6, "30 June"),
    _i("GOOGL", "Alphabet (class A)", [AI], 1652044, 12),
    _i("AMZN", "Amazon", [AI], 1018724, 12),
    _i("META", "Meta Platforms", [AI], 1326801, 12),
    _i("ORCL", "Oracle", [AI, DOTCOM], 1341439, 5, "31 May"),
    _i("AMD", "Advanced Micro Devices", [AI], 2488, 12, "last Saturday of December"),
    _i("AVGO", "Broadcom", [AI], 1730168, 10, "Sunday nearest 31 October"),
    _i("SMCI", "Super Micro Computer", [AI], 1375365, 6, "30 June"),
    _i("CSCO", "Cisco Systems", [DOTCOM], 858877, 7, "last Saturday of July"),
    _i("INTC", "Intel", [DOTCOM], 50863, 12, "last Saturday of December"),
    _i("QCOM", "Qualcomm", [DOTCOM], 804328, 9, "last Sunday of September"),
    _i("GLW", "Corning", [DOTCOM], 24741, 12),
    _i("VIAV", "Viavi Solutions (ex-JDS Uniphase)", [DOTCOM], 912093, 6,
       "Saturday nearest 30 June"),
    _i("^IXIC", "Nasdaq Composite", [INDEX], is_index=True),
    _i("^GSPC", "S&P 500", [INDEX], is_index=True),
    _i("^NDX", "Nasdaq-100", [INDEX], is_index=True),
)

#: Hyperscalers whose capex is the AI build-out (brief: Microsoft, Alphabet, Amazon, Meta, Oracle).
HYPERSCALERS: tuple[str, ...] = ("MSFT", "GOOGL", "AMZN", "META", "ORCL")

DEFAULT_BASKETS: dict[str, tuple[str, ...]] = {
    "ai_basket": ("NVDA", "MSFT", "GOOGL", "AMZN", "META", "ORCL", "AMD", "AVGO", "SMCI"),
    "dotcom_basket": ("CSCO", "INTC", "QCOM", "GLW", "VIAV", "ORCL", "MSFT"),
    "hyperscalers": HYPERSCALERS,
}

DEFAULT_ANALOG_PAIRS: tuple[AnalogPair, ...] = (
    AnalogPair("nvda_csco", "NVDA", "CSCO", "price", "Is Nvidia the new Cisco?"),
    AnalogPair("ai_dotcom_basket", "ai_basket", "dotcom_basket", "basket",
               "AI basket vs dot-com basket (equal-weighted)"),
    AnalogPair("capex", "hyperscalers", "telecom_carriers", "capex",
               "Hyperscaler capex vs telecom carrier capex"),
    AnalogPair("vendor_financing", "NVDA", "CSCO", "financing",
               "CoreWeave/Nvidia financing vs Cisco/Lucent vendor financing"),
)


def default_universe() -> Universe:
    return Universe(DEFAULT_INSTRUMENTS, DEFAULT_ANALOG_PAIRS, "^GSPC", dict(DEFAULT_BASKETS))


def universe_from_config(cfg: Mapping[str, Any] | None) -> Universe:
    """Build a universe from the ``[universe]`` TOML table, defaults elsewhere.

    Recognised keys: ``instruments`` (list of tables with ``symbol``, ``name``,
    ``cohorts``, optional ``cik``, ``fiscal_year_end``, ``listed``, ``is_index``,
    ``exchange``)
    replaces the defaults; ``extra_instruments`` adds to them; ``symbols`` keeps
    only those; ``baskets`` (name -> list) and ``market_index`` override.
    ``file`` and ``name`` (a universe file's members) are applied by
    :attr:`bubblewatch.core.settings.Settings.universe`.
    """
    base = default_universe()
    if not cfg:
        return base
    instruments = list(base.instruments)
    try:
        if "instruments" in cfg:
            instruments = [_from_table(t) for t in cfg["instruments"]]
        for t in cfg.get("extra_instruments", []):
            ins = _from_table(t)
            instruments = [i for i in instruments if i.symbol != ins.symbol] + [ins]
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"[universe] instruments: {exc}") from exc
    u = replace(base, instruments=tuple(instruments))
    if "baskets" in cfg:
        u = replace(u, baskets={**base.baskets, **{k: tuple(v) for k, v in cfg["baskets"].items()}})
    if "market_index" in cfg:
        u = replace(u, market_index=str(cfg["market_index"]))
    if "symbols" in cfg:
        try:
            u = u.subset(cfg["symbols"])
        except KeyError as exc:
            raise ConfigError(f"[universe] symbols: {exc.args[0]}") from exc
    return u


def _from_table(t: Mapping[str, Any]) -> Instrument:
    if "symbol" not in t:
        raise KeyError("every instrument needs a 'symbol'")
    listed = t.get("listed")
    return Instrument(
        symbol=str(t["symbol"]).upper(),
        name=str(t.get("name", t["symbol"])),
        cohorts=tuple(t.get("cohorts", ())),
        cik=int(t["cik"]) if t.get("cik") is not None else None,
        fiscal_year_end=int(t.get("fiscal_year_end", 12)),
        fiscal_year_note=str(t.get("fiscal_year_note", "")),
        listed=date.fromisoformat(str(listed)) if listed else None,
        is_index=bool(t.get("is_index", str(t["symbol"]).startswith("^"))),
        exchange=str(t.get("exchange", "XNYS")).upper(),
    )
