"""Words for people: labels, explanations and formatted values of stored fields.

Every stored field is declared once, beside its computation, as a
:class:`~indicators.registry.Column` (label, unit, one-line description);
composite components are the composite's ``c_<name>`` columns. This module
only *reads* those declarations so that the dashboard, e-mails, Slack messages
and export headers all say the same thing:

>>> label("valuation", "pe_ttm")
'Trailing P/E'
>>> format_value("fraction, 1.0 = +100%", 3.12)
'+312%'
>>> format_value("USD m a year", 1_194_000)
'1,194 USD bn a year'

Machine names (``pe_ttm``, ``composite.score``) stay in files and on the
command line; people see the labels.
"""

from __future__ import annotations

import math
import re

from bubblewatch.core.errors import ConfigError
from bubblewatch.core.settings import EVENT_CATEGORY_LABELS
from indicators import registry
from indicators.registry import Column

#: Dates of stored series are exchange dates: the trading day in New York.
DATE_ZONE = "America/New_York"
#: How times of day are shown (computed-at, delivered-at): UTC, with the zone named.
TIME_ZONE = "UTC"
#: One line saying what the dates and times in a table or file are.
DATES_NOTE = ("dates are exchange trading days in New York (America/New_York); "
              "times (computed at, exported at) are UTC")


def column(indicator: str, field: str) -> Column:
    """The :class:`Column` of ``indicator``'s ``field``.

    Raises
    ------
    ConfigError
        For an unknown indicator (listing the known ones).
    KeyError
        For an unknown field (listing the indicator's fields).
    """
    return registry.get(indicator).column(field)


def label(indicator: str, field: str) -> str:
    """Short label of a stored field (``"Trailing P/E"``)."""
    return column(indicator, field).label


def explain(indicator: str, field: str) -> str:
    """``"label (unit): description"`` of a stored field."""
    return column(indicator, field).text


def labels(indicator: str, fields: list[str] | tuple[str, ...] | None = None) -> dict[str, str]:
    """Field name -> label for ``fields`` (every declared field when None);
    names that are not fields of the indicator (``date``, ``key``) are left out."""
    cols = registry.get(indicator).columns
    names = list(cols) if fields is None else [f for f in fields if f in cols]
    return {f: cols[f].label for f in names}


def component(name: str) -> Column:
    """The column of composite component ``name`` (``"runup"`` -> ``c_runup``)."""
    return column("composite", f"c_{name}")


def component_names() -> list[str]:
    """Every composite component, by name (the composite's ``c_<name>`` columns)."""
    return [c[2:] for c in registry.get("composite").columns if c.startswith("c_")]


def component_label(name: str) -> str:
    """People's name of a composite component (its column label)."""
    return component(name).label


def signal_labels() -> dict[str, str]:
    """Signal -> people's name, for every signal the backtest judges (the headline
    warning and each real-time monitor), from
    :data:`~indicators.track_record.SIGNAL_LABELS`."""
    from indicators.track_record import SIGNAL_LABELS  # the replay's modules load on use

    return dict(SIGNAL_LABELS)


def signal_label(name: str) -> str:
    """People's name of a backtest signal (``"psy_pointwise"`` -> ``"PSY, pointwise"``).

    Raises
    ------
    KeyError
        For a name that is not a signal of :mod:`indicators.track_record` (listing them).
    """
    known = signal_labels()
    try:
        return known[name]
    except KeyError:
        raise KeyError(f"signal {name!r} is unknown; signals: {', '.join(known)}") from None


def category_label(category: str) -> str:
    """People's name of an event category (``"export_control"`` -> ``"US export
    controls"``), from :data:`~bubblewatch.core.settings.EVENT_CATEGORY_LABELS`.

    Raises
    ------
    KeyError
        For a category that is not one of ``EVENT_CATEGORIES`` (listing them).
    """
    try:
        return EVENT_CATEGORY_LABELS[category]
    except KeyError:
        raise KeyError(f"event category {category!r} is unknown; categories: "
                       f"{', '.join(EVENT_CATEGORY_LABELS)}") from None


def words(indicator: str, text: str) -> str:
    """``text`` (a stored note) with the indicator's machine field names
    (``ret_2y_net``, ``runup.ret_2y``) replaced by their labels."""
    cols = registry.get(indicator).columns

    def dotted(m: re.Match[str]) -> str:
        ind, fld = m.group(1), m.group(2)
        try:
            return label(ind, fld)
        except (ConfigError, KeyError):  # not an indicator's field (a file name...): as written
            return m.group(0)

    text = re.sub(r"(?<![\w./-])([a-z][a-z0-9_]+)\.([a-z][a-z0-9_]+)(?![\w(/-])", dotted, text)
    for name in sorted(cols, key=len, reverse=True):
        if "_" in name or any(ch.isdigit() for ch in name):
            text = re.sub(rf"(?<![\w`-]){re.escape(name)}(?![\w`-])", cols[name].label, text)
    return text


# --------------------------------------------------------------------------- values
def _pct(v: float, signed: bool) -> str:
    p = 100.0 * v
    digits = 0 if abs(p) >= 10 or p == 0 else 1
    return f"{p:+,.{digits}f}%" if signed else f"{p:,.{digits}f}%"


def format_value(unit: str, value: float | None) -> str:
    """``value`` written in ``unit`` (a :attr:`Column.unit`) the way people read it.

    Fractions become percentages (signed when the unit shows a ``+``), USD
    millions become USD bn from 1,000 on, multiples get ``×``, scores ``/ 100``,
    flags ``yes``/``no``; a missing value is ``"no value"``.
    """
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "no value"
    v = float(value)
    u = unit.strip()
    low = u.lower()
    if low.startswith(("fraction", "probability")):
        return _pct(v, signed="+" in u or v < 0)
    if low.startswith("usd m"):
        tail = u[5:].strip()
        text = f"{v / 1e3:,.0f} USD bn" if abs(v) >= 1e4 else (
            f"{v / 1e3:,.1f} USD bn" if abs(v) >= 1e3 else f"{v:,.0f} USD m")
        return f"{text} {tail}".strip()
    if low.startswith("times"):
        return f"{v:,.1f}×"
    if low.startswith("score"):
        return f"{v:.0f} / 100"
    if low.startswith("1 = yes"):
        return "yes" if v >= 0.5 else "no"
    if low in ("days", "trading days") or low.startswith("trading days"):
        num = f"{v:,.1f}" if 0 < abs(v) < 10 else f"{v:,.0f}"
        return f"{num} {'trading days' if low.startswith('trading') else 'days'}"
    if low == "count":
        return f"{v:,.0f}"
    if low in ("t-statistic", "log price", "log points") or low.startswith("ratio"):
        return f"{v:,.2f}"
    return f"{v:,.4g} {u}".strip()


def format_field(indicator: str, field: str, value: float | None) -> str:
    """``value`` of ``indicator``'s ``field`` in that field's unit (:func:`format_value`)."""
    return format_value(column(indicator, field).unit, value)


# --------------------------------------------------------------------------- checks
#: What a machine key looks like in text meant for people: ``a.b`` names,
#: ``snake_case`` field names, and Python's or pandas' empty values.
RAW_KEY_PATTERNS: dict[str, re.Pattern[str]] = {
    "dotted key": re.compile(r"(?<![\w./@-])[a-z][a-z0-9_]+\.[a-z][a-z0-9_]+(?![\w(/-])"),
    "snake_case name": re.compile(r"(?<![\w./@-])[a-z][a-z0-9]*_[a-z0-9_]+(?![\w/@-])"),
    "None": re.compile(r"\bNone\b"),
    "nan": re.compile(r"(?<![\w.])(nan|NaN|NaT|<NA>)(?![\w])"),
    "field name": re.compile(r"(?<![\w./-])[a-z]{2,}[0-9]{2,}(?![\w/-])"),
    "code": re.compile(r"`[^`\n]+`"),
}
_URL = re.compile(r"https?://\S+|mailto:\S+")
#: Inline code people may see: commands and options they type, settings variables,
#: TOML tables of the rules file, file paths and the database URL.
_COMMAND = re.compile(r"`(?:bubblewatch |BUBBLEWATCH_|--|\[)[^`\n]*`|`[^`\n]*[/\\<][^`\n]*`")


def raw_keys(text: str) -> list[str]:
    """Machine keys found in ``text`` meant for people (empty when clean).

    URLs, and what people type as it is (commands in backticks such as
    ```bubblewatch compute psy```, options, settings variables, file paths) are
    ignored; everything else that looks like a field name, a dotted
    ``indicator.field`` key, ``None``, ``nan`` or any other inline code is
    returned as ``"kind: match"``.
    """
    clean = _COMMAND.sub(" ", _URL.sub(" ", text))
    out: list[str] = []
    for kind, pat in RAW_KEY_PATTERNS.items():
        out += [f"{kind}: {m.group(0)}" for m in pat.finditer(clean)]
    return out
