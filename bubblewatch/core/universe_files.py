"""Universe files: index members and watchlists as CSV or TOML.

A universe file lists symbols, one member span per row, with optional
``name``, ``cohort``, ``cik`` and dated membership (``joined`` inclusive,
``left`` exclusive, ISO dates). A symbol that left and joined again has one
row per span.

CSV (header required; column order free; ``cohort`` may hold several cohorts
separated by ``;``)::

    symbol,name,cohort,cik,joined,left
    NVDA,NVIDIA,ai,1045810,2001-11-30,
    CSCO,Cisco Systems,dotcom,858877,1993-01-01,

TOML (``name`` and ``description`` optional; ``cohort`` a string or a list)::

    name = "sp500"
    description = "S&P 500 members since 2000"
    [[members]]
    symbol = "NVDA"
    cohort = ["ai"]
    joined = 2001-11-30

Every problem is one :class:`~bubblewatch.core.errors.ConfigError` naming the
file, the row (the line an editor shows for CSV, the ``[[members]]`` entry for
TOML), the field, the value and what is allowed. ``bubblewatch universe add``
checks a file and stores it, normalised, as ``<data_dir>/universes/NAME.toml``;
settings select one with ``[universe] file = PATH`` or ``name = NAME``.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bubblewatch.core.errors import ConfigError
from bubblewatch.core.universe import Instrument, Membership

#: Symbols: letters, digits and ``^ . - = /``, at most 16 characters (the column width).
SYMBOL_RE = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=/]{0,15}$")
#: Universe and cohort names: lower-case letters, digits, ``_`` and ``-``.
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
FIELDS = ("symbol", "name", "cohort", "cik", "joined", "left")
MAX_CIK = 9_999_999_999


@dataclass(frozen=True, slots=True)
class MemberRow:
    """One member span of a universe file (``row`` is where it was read)."""

    symbol: str
    name: str | None
    cohorts: tuple[str, ...]
    cik: int | None
    joined: date | None
    left: date | None
    row: int


@dataclass(frozen=True, slots=True)
class UniverseFile:
    """A checked universe file: its name, description and member spans."""

    name: str
    rows: tuple[MemberRow, ...]
    description: str = ""
    path: str = ""

    @property
    def symbols(self) -> list[str]:
        """Every symbol, once, in file order."""
        return list(dict.fromkeys(r.symbol for r in self.rows))

    def instruments(self) -> list[Instrument]:
        """One :class:`Instrument` per symbol (name, cohorts and CIK of its rows)."""
        out: dict[str, Instrument] = {}
        for r in self.rows:
            old = out.get(r.symbol)
            cohorts = tuple(dict.fromkeys([*(old.cohorts if old else ()), *r.cohorts]))
            out[r.symbol] = Instrument(
                symbol=r.symbol, name=r.name or (old.name if old else r.symbol),
                cohorts=cohorts, cik=r.cik if r.cik is not None else (old.cik if old else None),
                fiscal_year_note="", is_index=r.symbol.startswith("^"))
        return list(out.values())

    def memberships(self) -> list[Membership]:
        """The dated spans (every row is one)."""
        return [Membership(r.symbol, r.joined, r.left) for r in self.rows]

    def to_toml(self) -> dict[str, Any]:
        """The normalised TOML document ``universe add`` stores."""
        members = []
        for r in self.rows:
            m: dict[str, Any] = {"symbol": r.symbol}
            if r.name:
                m["name"] = r.name
            if r.cohorts:
                m["cohort"] = list(r.cohorts)
            if r.cik is not None:
                m["cik"] = r.cik
            if r.joined is not None:
                m["joined"] = r.joined
            if r.left is not None:
                m["left"] = r.left
            members.append(m)
        return {"name": self.name, "description": self.description, "members": members}


def read_universe_file(path: Path, name: str | None = None) -> UniverseFile:
    """Read and check a CSV or TOML universe file.

    Parameters
    ----------
    path
        ``*.csv`` or ``*.toml``.
    name
        The universe's name (default: the TOML ``name``, else the file stem).

    Raises
    ------
    ConfigError
        One message naming the file, row, field, value and what is allowed.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"universe file {path} does not exist; give the path of a .csv or "
                          ".toml file")
    suffix = path.suffix.lower()
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    if suffix == ".csv":
        records, meta = _csv_records(path, text), {}
    elif suffix == ".toml":
        records, meta = _toml_records(path, text)
    else:
        raise ConfigError(f"{path}: a universe file must end in .csv or .toml, not "
                          f"{suffix or 'no suffix'!r}")
    uname = name or str(meta.get("name") or _slug(path.stem))
    if not NAME_RE.match(uname):
        raise ConfigError(f"{path}: universe name {uname!r} is not allowed; use lower-case "
                          "letters, digits, '_' and '-' (at most 64), e.g. --name sp500")
    rows = tuple(_member(path, row, rec) for row, rec in records)
    if not rows:
        raise ConfigError(f"{path}: no members; list at least one symbol")
    _check_spans(path, rows)
    description = meta.get("description", "")
    if not isinstance(description, str):
        raise ConfigError(f"{path}: field 'description' must be text, got {description!r}")
    return UniverseFile(uname, rows, description, str(path))


def load_named(name: str, folder: Path) -> UniverseFile:
    """The universe ``name`` stored by ``bubblewatch universe add`` in ``folder``."""
    path = Path(folder) / f"{name}.toml"
    if not path.is_file():
        known = sorted(p.stem for p in Path(folder).glob("*.toml")) if Path(folder).is_dir() else []
        raise ConfigError(f"no stored universe {name!r} in {folder}; known: "
                          f"{', '.join(known) or 'none'} (add one with `bubblewatch universe add "
                          "FILE`)")
    return read_universe_file(path, name)


def stored_universes(folder: Path) -> list[UniverseFile]:
    """Every universe stored in ``folder``, by name."""
    if not Path(folder).is_dir():
        return []
    return [read_universe_file(p) for p in sorted(Path(folder).glob("*.toml"))]


def _slug(stem: str) -> str:
    return re.sub(r"[^a-z0-9_\-]+", "_", stem.lower()).strip("_-") or "universe"


def _csv_records(path: Path, text: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    out: list[tuple[int, dict[str, Any]]] = []
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if header is None:
            header = [v.strip().lower() for v in values]
            unknown = [h for h in header if h not in FIELDS]
            if unknown:
                raise ConfigError(f"{path}, line {line}: unknown column {unknown[0]!r}; "
                                  f"allowed: {', '.join(FIELDS)}")
            if "symbol" not in header:
                raise ConfigError(f"{path}, line {line}: no 'symbol' column; the header must "
                                  f"name it (allowed columns: {', '.join(FIELDS)})")
            if len(set(header)) != len(header):
                raise ConfigError(f"{path}, line {line}: a column appears twice in the header")
            continue
        if len(values) != len(header):
            raise ConfigError(f"{path}, line {line}: {len(values)} fields, the header has "
                              f"{len(header)}")
        rec = {h: v.strip() for h, v in zip(header, values, strict=True) if v.strip() != ""}
        if "cohort" in rec:
            rec["cohort"] = [c.strip() for c in rec["cohort"].split(";") if c.strip()]
        out.append((line, rec))
    if header is None:
        raise ConfigError(f"{path}: empty file; the first line must be a header naming at "
                          f"least 'symbol' (allowed: {', '.join(FIELDS)})")
    return out


def _toml_records(path: Path, text: str) -> tuple[list[tuple[int, dict[str, Any]]],
                                                  dict[str, Any]]:
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    extra = sorted(set(doc) - {"name", "description", "members"})
    if extra:
        raise ConfigError(f"{path}: unknown key {extra[0]!r}; allowed: name, description, "
                          "[[members]]")
    members = doc.get("members")
    if not isinstance(members, list) or not all(isinstance(m, Mapping) for m in members):
        raise ConfigError(f"{path}: members must be [[members]] tables, each with a symbol")
    out = []
    for i, m in enumerate(members, start=1):
        unknown = [k for k in m if k not in (*FIELDS, "cohorts")]
        if unknown:
            raise ConfigError(f"{path}, member {i}: unknown field {unknown[0]!r}; allowed: "
                              f"{', '.join(FIELDS)}")
        rec = dict(m)
        if "cohorts" in rec:
            rec["cohort"] = rec.pop("cohorts")
        out.append((i, rec))
    return out, {k: doc[k] for k in ("name", "description") if k in doc}


def _member(path: Path, row: int, rec: Mapping[str, Any]) -> MemberRow:
    where = f"{path}, {'line' if path.suffix.lower() == '.csv' else 'member'} {row}"

    def bad(fld: str, value: Any, allowed: str) -> ConfigError:
        return ConfigError(f"{where}, field {fld!r}: {value!r} is not allowed; {allowed}")

    raw = rec.get("symbol")
    if raw is None or str(raw).strip() == "":
        raise ConfigError(f"{where}: field 'symbol' is missing; every member needs one")
    symbol = str(raw).strip().upper()
    if not isinstance(raw, str) or not SYMBOL_RE.match(symbol):
        raise bad("symbol", raw, "a ticker of letters, digits and ^ . - = / (at most 16)")
    name = rec.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 128):
        raise bad("name", name, "text of at most 128 characters")
    cohort = rec.get("cohort", [])
    if isinstance(cohort, str):
        cohort = [cohort]
    if not isinstance(cohort, list):
        raise bad("cohort", cohort, "a name or a list of names")
    for c in cohort:
        if not isinstance(c, str) or not NAME_RE.match(c):
            raise bad("cohort", c, "lower-case letters, digits, '_' and '-' (at most 64)")
    cik = rec.get("cik")
    if cik is not None:
        try:
            cik = int(str(cik).strip()) if not isinstance(cik, (bool, float)) else None
        except ValueError:
            cik = None
        if cik is None:
            raise bad("cik", rec.get("cik"), "a positive whole number of at most 10 digits "
                      "(SEC Central Index Key)") from None
        if not 0 < cik <= MAX_CIK:
            raise bad("cik", rec.get("cik"), "a positive whole number of at most 10 digits")
    joined = _date(rec.get("joined"), "joined", bad)
    left = _date(rec.get("left"), "left", bad)
    if joined is not None and left is not None and left <= joined:
        raise ConfigError(f"{where}, field 'left': {left.isoformat()} is not after joined "
                          f"{joined.isoformat()}; a span ends after it starts")
    return MemberRow(symbol, name, tuple(cohort), cik, joined, left, row)


def _date(value: Any, fld: str, bad: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date) and not hasattr(value, "hour"):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise bad(fld, value, "an ISO date YYYY-MM-DD (or empty)") from None


def _check_spans(path: Path, rows: Sequence[MemberRow]) -> None:
    """Spans of one symbol must not overlap; its CIK must not change."""
    by_symbol: dict[str, list[MemberRow]] = {}
    for r in rows:
        by_symbol.setdefault(r.symbol, []).append(r)
    lo, hi = date.min, date.max
    for symbol, spans in by_symbol.items():
        ciks = {r.cik for r in spans if r.cik is not None}
        if len(ciks) > 1:
            last = spans[-1]
            raise ConfigError(f"{path}, row {last.row}, field 'cik': {symbol} has CIKs "
                              f"{', '.join(map(str, sorted(ciks)))}; one company has one CIK")
        ordered = sorted(spans, key=lambda r: r.joined or lo)
        for a, b in itertools.pairwise(ordered):
            if (a.left or hi) > (b.joined or lo):
                raise ConfigError(
                    f"{path}, row {b.row}, field 'joined': {symbol}'s span from "
                    f"{b.joined or 'the start'} overlaps the one of row {a.row} (until "
                    f"{a.left or 'now'}); give each span its own dates")
