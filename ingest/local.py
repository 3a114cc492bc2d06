"""The local-folder source: ``DIR/prices/SYMBOL.csv`` and
``DIR/edgar/CIK##########.json``.

This is the offline path (air-gapped users), the analysts' own-data path and
the development path (``../shared/data`` has exactly this layout). Index files
may be named with or without the caret: ``IXIC.csv`` is ``^IXIC``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from bubblewatch.core.errors import IngestError
from bubblewatch.core.universe import Universe
from ingest.companyfacts import load_json, parse_companyfacts
from ingest.models import FactRow, canonical_bars

CIK_FILE = re.compile(r"^CIK(\d{10})\.json$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class FolderQuery:
    """What to read from a folder; ``symbols`` None means every file."""

    root: Path
    symbols: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class PriceFile:
    path: Path
    symbol: str


@dataclass(frozen=True, slots=True)
class FactsFile:
    path: Path
    cik: int


def scan(query: FolderQuery, universe: Universe) -> tuple[list[PriceFile], list[FactsFile], list[str]]:
    """List the price and companyfacts files to load, and problems found
    (unknown symbols) as messages. Raises if the folder has neither sub-folder."""
    root = query.root
    prices_dir, edgar_dir = root / "prices", root / "edgar"
    if not root.is_dir():
        raise IngestError("folder does not exist", source=str(root))
    if not prices_dir.is_dir() and not edgar_dir.is_dir():
        raise IngestError("expected a 'prices/' and/or 'edgar/' sub-folder", source=str(root))
    wanted = {universe.resolve(s) for s in query.symbols} if query.symbols else None
    price_files: list[PriceFile] = []
    problems: list[str] = []
    for path in sorted(prices_dir.glob("*.csv")) if prices_dir.is_dir() else []:
        try:
            symbol = universe.resolve(path.stem)
        except KeyError:
            problems.append(f"{path}: unknown symbol {path.stem!r} (add it to the [universe] "
                            "settings to load it)")
            continue
        if wanted is None or symbol in wanted:
            price_files.append(PriceFile(path, symbol))
    ciks = {i.cik for i in universe.instruments if i.cik and (wanted is None or i.symbol in wanted)}
    facts_files: list[FactsFile] = []
    for path in sorted(edgar_dir.glob("*.json")) if edgar_dir.is_dir() else []:
        m = CIK_FILE.match(path.name)
        if not m:
            continue
        cik = int(m.group(1))
        if wanted is None or cik in ciks:
            facts_files.append(FactsFile(path, cik))
    return price_files, facts_files, problems


def read_prices(file: PriceFile) -> pd.DataFrame:
    """Read and validate one price CSV (canonical bars)."""
    try:
        raw = pd.read_csv(file.path, dtype=str, keep_default_na=False, skip_blank_lines=True)
    except pd.errors.ParserError as exc:
        raise IngestError(f"malformed CSV: {exc}", source=str(file.path)) from None
    except (UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise IngestError(f"cannot read as CSV: {exc}", source=str(file.path)) from None
    return canonical_bars(raw, str(file.path))


def read_facts(file: FactsFile, symbol: str | None) -> list[FactRow]:
    """Read and validate one companyfacts JSON file."""
    raw = file.path.read_bytes()
    data = load_json(raw, str(file.path))
    return parse_companyfacts(data, str(file.path), symbol=symbol, expected_cik=file.cik,
                              source_tag="file")
