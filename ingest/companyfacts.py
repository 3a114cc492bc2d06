"""SEC XBRL ``companyfacts`` JSON -> canonical fact rows.

Layout: ``facts -> {taxonomy} -> {Concept} -> units -> {unit} -> [fact]`` where a
fact is ``{start?, end, val, accn, fy, fp, form, filed, frame?}``. ``fy``/``fp``
/``form`` describe the *filing* that carried a value, not the value's period,
so rows are keyed on (start, end). Every vintage is kept.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bubblewatch.core.errors import EmptyDataError, IngestError
from ingest.models import FactRow

DEFAULT_TAXONOMIES = ("us-gaap", "dei")


def load_json(raw: bytes | str, source: str) -> dict[str, Any]:
    """Decode JSON, turning truncation and syntax errors into an IngestError
    that names the line and column."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise IngestError(f"not valid JSON ({exc.msg}); is the file truncated?", source=source,
                          location=f"line {exc.lineno}, column {exc.colno}") from None
    if not isinstance(data, dict):
        raise IngestError("expected a JSON object at the top level", source=source)
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
        (e.g. ``facts.us-gaap.Revenues.units.USD[3].filed``).
    """
    for field in ("cik", "facts"):
        if field not in data:
            raise IngestError(f"missing field {field!r}; is this a companyfacts file?",
                              source=source, location=field)
    try:
        cik = int(data["cik"])
    except (TypeError, ValueError):
        raise IngestError(f"cik {data['cik']!r} is not a number", source=source,
                          location="cik") from None
    if expected_cik is not None and cik != expected_cik:
        raise IngestError(f"holds CIK {cik}, expected {expected_cik}", source=source, location="cik")
    facts = data["facts"]
    if not isinstance(facts, dict):
        raise IngestError("'facts' is not an object", source=source, location="facts")
    rows: dict[tuple, FactRow] = {}
    for taxonomy in taxonomies:
        concepts = facts.get(taxonomy) or {}
        for concept, body in concepts.items():
            units = body.get("units") if isinstance(body, dict) else None
            if not isinstance(units, dict):
                raise IngestError("has no 'units' object", source=source,
                                  location=f"facts.{taxonomy}.{concept}")
            for unit, values in units.items():
                for i, v in enumerate(values):
                    path = f"facts.{taxonomy}.{concept}.units.{unit}[{i}]"
                    row = _fact(v, path, source, cik, symbol, taxonomy, concept, unit, source_tag)
                    key = (taxonomy, concept, unit, row["period_start"], row["period_end"],
                           row["accession"])
                    rows[key] = row
    if not rows:
        raise EmptyDataError(f"no {'/'.join(taxonomies)} facts", source=source)
    return list(rows.values())


def _fact(v: Any, path: str, source: str, cik: int, symbol: str | None, taxonomy: str,
          concept: str, unit: str, source_tag: str) -> FactRow:
    if not isinstance(v, dict):
        raise IngestError("fact is not an object", source=source, location=path)
    for field in ("end", "val", "accn", "form", "filed"):
        if field not in v:
            raise IngestError(f"missing field {field!r}", source=source, location=f"{path}.{field}")
    end = _date(v["end"], source, f"{path}.end")
    start = _date(v["start"], source, f"{path}.start") if v.get("start") else end
    if start > end:
        raise IngestError(f"start {start} is after end {end}", source=source, location=f"{path}.start")
    val = v["val"]
    if isinstance(val, bool) or not isinstance(val, (int, float)):
        raise IngestError(f"val {val!r} is not a number", source=source, location=f"{path}.val")
    fy = v.get("fy")
    return FactRow(
        cik=cik, symbol=symbol, taxonomy=taxonomy, concept=concept, unit=unit,
        period_start=start, period_end=end, instant="start" not in v or not v.get("start"),
        value=float(val), fiscal_year=int(fy) if isinstance(fy, int) else None,
        fiscal_period=v.get("fp"), form=str(v["form"]),
        filed=_date(v["filed"], source, f"{path}.filed"), accession=str(v["accn"]),
        frame=v.get("frame"), source=source_tag,
    )


def _date(text: Any, source: str, location: str) -> date:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        raise IngestError(f"{text!r} is not an ISO date", source=source, location=location) from None
