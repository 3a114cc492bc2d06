"""SEC XBRL ``companyfacts`` JSON -> canonical fact rows.

Layout: ``facts -> {taxonomy} -> {Concept} -> units -> {unit} -> [fact]`` where a
fact is ``{start?, end, val, accn, fy, fp, form, filed, frame?}``. ``fy``/``fp``
/``form`` describe the *filing* that carried a value, not the value's period,
so rows are keyed on (start, end). Every vintage is kept.

Every field is checked before anything is stored: JSON types, ISO dates
(from :data:`~ingest.models.EARLIEST_DATE`; filed no later than today in New
York; a period ending at most :data:`MAX_END_AFTER_FILED` after its filing),
finite values no larger than :data:`~ingest.models.FACT_MAGNITUDE` for their
unit, and text short enough for the ``fundamental_fact`` columns. ``NaN``,
``Infinity``, numbers too large for a float (``1e400``) and integers too long
to read are rejected with the JSON path of the field, which names the
taxonomy, concept and unit: ``facts.us-gaap.Revenues.units.USD[3].val``.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, timedelta
from typing import Any

from bubblewatch.core.errors import EmptyDataError, IngestError
from ingest.models import (
    DEFAULT_FACT_MAGNITUDE,
    EARLIEST_DATE,
    FACT_MAGNITUDE,
    FactRow,
    quoted,
    today_in_exchange_time,
)

DEFAULT_TAXONOMIES = ("us-gaap", "dei")
#: A fact's period may end this long after the filing that carries it (real
#: 10-Qs state amounts for a period still running, e.g. a buy-back settling
#: two months later).
MAX_END_AFTER_FILED = timedelta(days=5 * 366)
#: Largest accepted CIK (the ``fundamental_fact.cik`` column is a 32-bit
#: integer; SEC CIKs are below 2.1 million today).
MAX_CIK = 2**31 - 1
#: Longest accepted text per field (the ``fundamental_fact`` column widths).
TEXT_LIMITS = {"taxonomy": 32, "concept": 255, "unit": 32, "fp": 8, "form": 32, "accn": 32,
               "frame": 32}
#: Digits beyond which an integer literal is not even converted (Python refuses
#: more than 4300; no fact needs more than 16).
_MAX_INT_DIGITS = 40
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


class _BadNumber:
    """A JSON number that cannot be a fact value (NaN, Infinity, overflow, a
    huge integer), kept as its text so the error can quote it."""

    __slots__ = ("problem", "text")

    def __init__(self, text: str, problem: str = "is not a finite number") -> None:
        self.text = text
        self.problem = problem

    def __repr__(self) -> str:
        return self.text if len(self.text) <= 24 else f"{self.text[:12]}...({len(self.text)} chars)"


def _parse_int(text: str) -> int | _BadNumber:
    if len(text) <= _MAX_INT_DIGITS:
        return int(text)
    return _BadNumber(text, f"is too large ({len(text.lstrip('-'))} digits)")


def _parse_float(text: str) -> float | _BadNumber:
    value = float(text)
    return value if math.isfinite(value) else _BadNumber(text, "is too large for a float")


def load_json(raw: bytes | str, source: str) -> dict[str, Any]:
    """Decode JSON, turning truncation, syntax errors and bytes that are not
    text into an IngestError that names the line and column. ``NaN``,
    ``Infinity``, overflowing and very long numbers are kept as markers that
    :func:`parse_companyfacts` rejects with their JSON path."""
    if isinstance(raw, bytes):
        encoding = json.detect_encoding(raw)
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
            raise IngestError(f"byte 0x{raw[exc.start:exc.start + 1].hex()} is not "
                              f"{encoding.upper()}; allowed: UTF-8 JSON (download the file "
                              "again)", source=source,
                              location=f"line {line}, column {column}") from None
    else:
        text = raw
    try:
        data = json.loads(text, parse_int=_parse_int, parse_float=_parse_float,
                          parse_constant=_BadNumber)
    except json.JSONDecodeError as exc:
        raise IngestError(f"not valid JSON ({exc.msg}); is the file truncated?", source=source,
                          location=f"line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise IngestError("JSON nested too deeply to be a companyfacts document",
                          source=source) from None
    if not isinstance(data, dict):
        raise IngestError(f"expected a JSON object at the top level, found {_kind(data)}",
                          source=source)
    return data


def parse_companyfacts(
    data: dict[str, Any],
    source: str,
    *,
    symbol: str | None = None,
    expected_cik: int | None = None,
    taxonomies: tuple[str, ...] = DEFAULT_TAXONOMIES,
    source_tag: str = "edgar",
) -> list[FactRow]:
    """Every fact of ``taxonomies`` as a :class:`~ingest.models.FactRow`.

    Raises
    ------
    IngestError
        Naming the JSON path of the first malformed field
        (e.g. ``facts.us-gaap.Revenues.units.USD[3].filed``), its value and
        what is allowed.
    EmptyDataError
        No fact of ``taxonomies`` at all.
    """
    if not isinstance(data, dict):
        raise IngestError(f"expected a JSON object at the top level, found {_kind(data)}",
                          source=source)
    for key in ("cik", "facts"):
        if key not in data:
            raise IngestError(f"missing field {key!r}; is this a companyfacts file?",
                              source=source, location=key)
    cik = _cik(data["cik"], source)
    if expected_cik is not None and cik != expected_cik:
        raise IngestError(f"holds CIK {cik}, expected {expected_cik}", source=source, location="cik")
    facts = data["facts"]
    if not isinstance(facts, dict):
        raise IngestError(f"'facts' is {_kind(facts)}; allowed: an object of taxonomies",
                          source=source, location="facts")
    today = today_in_exchange_time()
    rows: dict[tuple, FactRow] = {}
    for taxonomy in taxonomies:
        concepts = facts.get(taxonomy)
        if concepts is None:
            continue
        where = f"facts.{_name(taxonomy)}"
        if not isinstance(concepts, dict):
            raise IngestError(f"taxonomy {_name(taxonomy)} is {_kind(concepts)}; allowed: an "
                              "object of concepts",
                              source=source, location=where)
        _text(taxonomy, "taxonomy", source, where, optional=False)
        for concept, body in concepts.items():
            where = f"facts.{_name(taxonomy)}.{_name(concept)}"
            _text(concept, "concept", source, where, optional=False)
            units = body.get("units") if isinstance(body, dict) else None
            if not isinstance(units, dict):
                raise IngestError(f"concept {taxonomy}:{concept} has no 'units' object; allowed: "
                                  "{\"units\": {unit: [facts]}}", source=source, location=where)
            for unit, values in units.items():
                where = f"facts.{_name(taxonomy)}.{_name(concept)}.units.{_name(unit)}"
                _text(unit, "unit", source, where, optional=False)
                if not isinstance(values, list):
                    raise IngestError(f"concept {taxonomy}:{concept}, unit {unit}: "
                                      f"{_kind(values)}; allowed: a list of facts",
                                      source=source, location=where)
                for i, v in enumerate(values):
                    row = _fact(v, f"{where}[{i}]", source, cik, symbol, taxonomy, concept, unit,
                                source_tag, today)
                    key = (taxonomy, concept, unit, row["period_start"], row["period_end"],
                           row["accession"])
                    rows[key] = row
    if not rows:
        raise EmptyDataError(f"no {'/'.join(taxonomies)} facts", source=source)
    return list(rows.values())


def _name(key: str) -> str:
    """A JSON key as written in a path: plain when printable and short."""
    return key if key.isprintable() and len(key) <= 80 else quoted(key)


def _kind(v: Any) -> str:
    if isinstance(v, _BadNumber):
        return f"the number {v!r}"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(v), type(v).__name__)


def _cik(value: Any, source: str) -> int:
    cik: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        cik = value
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 10:
        cik = int(value.strip())
    if cik is None or not 1 <= cik <= MAX_CIK:
        raise IngestError(f"cik {quoted(value)} is not a CIK; allowed: a whole number from 1 to "
                          f"{MAX_CIK}", source=source, location="cik")
    return cik


def _text(value: Any, field: str, source: str, location: str, *, optional: bool) -> str | None:
    if value is None and optional:
        return None
    limit = TEXT_LIMITS[field]
    if not isinstance(value, str) or not value or len(value) > limit or not value.isprintable():
        raise IngestError(f"{field} {quoted(value)} is not allowed; allowed: printable text of 1 to "
                          f"{limit} characters" + (" or null" if optional else ""),
                          source=source, location=location)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise IngestError(f"{field} {quoted(value)} holds an unpaired surrogate; allowed: text",
                          source=source, location=location) from None
    return value


def _date(value: Any, field: str, source: str, location: str) -> date:
    if isinstance(value, str) and _ISO_DATE.match(value):
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise IngestError(f"{field} {quoted(value)} is not an ISO date; allowed: \"YYYY-MM-DD\"",
                      source=source, location=location)


def _fact(v: Any, path: str, source: str, cik: int, symbol: str | None, taxonomy: str,
          concept: str, unit: str, source_tag: str, today: date) -> FactRow:
    what = f"concept {taxonomy}:{concept}, unit {unit}"
    if not isinstance(v, dict):
        raise IngestError(f"{what}: fact is {_kind(v)}; allowed: an object", source=source,
                          location=path)
    for key in ("end", "val", "accn", "form", "filed"):
        if key not in v:
            raise IngestError(f"{what}: missing field {key!r}", source=source,
                              location=f"{path}.{key}")
    end = _date(v["end"], "end", source, f"{path}.end")
    has_start = v.get("start") is not None and v.get("start") != ""
    start = _date(v["start"], "start", source, f"{path}.start") if has_start else end
    filed = _date(v["filed"], "filed", source, f"{path}.filed")
    if start > end:
        raise IngestError(f"{what}: start {start} is after end {end}; allowed: start <= end",
                          source=source, location=f"{path}.start")
    for key, d in (("start", start), ("end", end), ("filed", filed)):
        if d < EARLIEST_DATE:
            raise IngestError(f"{what}: {key} {d} is before {EARLIEST_DATE}; allowed: dates from "
                              f"{EARLIEST_DATE}", source=source, location=f"{path}.{key}")
    if filed > today:
        raise IngestError(f"{what}: filed {filed} is after {today}, today in New York; allowed: "
                          "a filing date that has passed", source=source,
                          location=f"{path}.filed")
    if end > filed + MAX_END_AFTER_FILED:
        raise IngestError(f"{what}: end {end} is more than five years after filed {filed}; "
                          "allowed: a period ending before filed + 5 years", source=source,
                          location=f"{path}.end")
    value = _value(v["val"], what, unit, source, f"{path}.val")
    fy = v.get("fy")
    if fy is not None and (isinstance(fy, bool) or not isinstance(fy, int)
                           or not EARLIEST_DATE.year <= fy <= filed.year + 2):
        raise IngestError(f"{what}: fy {quoted(fy)} is not allowed; allowed: a year from "
                          f"{EARLIEST_DATE.year} to {filed.year + 2} (filed + 2) or null",
                          source=source, location=f"{path}.fy")
    return FactRow(
        cik=cik, symbol=symbol, taxonomy=taxonomy, concept=concept, unit=unit,
        period_start=start, period_end=end, instant=not has_start,
        value=value, fiscal_year=fy,
        fiscal_period=_text(v.get("fp"), "fp", source, f"{path}.fp", optional=True),
        form=_text(v["form"], "form", source, f"{path}.form", optional=False),  # type: ignore[typeddict-item]
        filed=filed,
        accession=_text(v["accn"], "accn", source, f"{path}.accn", optional=False),  # type: ignore[typeddict-item]
        frame=_text(v.get("frame"), "frame", source, f"{path}.frame", optional=True),
        source=source_tag,
    )


def _value(val: Any, what: str, unit: str, source: str, location: str) -> float:
    bound = FACT_MAGNITUDE.get(unit, DEFAULT_FACT_MAGNITUDE)
    allowed = f"a finite number with magnitude at most {bound:g} for unit {unit}"
    if isinstance(val, _BadNumber):
        raise IngestError(f"{what}: val {val!r} {val.problem}; allowed: {allowed}",
                          source=source, location=location)
    if isinstance(val, bool) or not isinstance(val, (int, float)):
        raise IngestError(f"{what}: val {quoted(val)} is {_kind(val)}, not a number; allowed: "
                          f"{allowed}", source=source, location=location)
    try:
        value = float(val)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value) or abs(value) > bound:
        raise IngestError(f"{what}: val {quoted(val)} is too large; allowed: {allowed}",
                          source=source, location=location)
    return value
