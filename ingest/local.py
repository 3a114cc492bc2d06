"""The local-folder source: ``DIR/prices/SYMBOL.csv`` and
``DIR/edgar/CIK##########.json``.

This is the offline path (air-gapped users), the analysts' own-data path and
the development path (``../shared/data`` has exactly this layout). Index files
may be named with or without the caret: ``IXIC.csv`` is ``^IXIC``.

Price files are read as a stream of chunks of :data:`CHUNK_LINES` lines, so a
file of any length is validated in bounded memory. Line numbers are the
physical lines an editor shows: blank lines count, a UTF-8 byte-order mark is
dropped, Windows (``\\r\\n``) line endings and a missing final newline are
fine.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from bubblewatch.core.errors import EmptyDataError, IngestError
from bubblewatch.core.universe import Universe
from ingest.companyfacts import load_json, parse_companyfacts
from ingest.models import (
    DateLedger,
    FactRow,
    PriceLimits,
    canonical_bars,
    canonical_positions,
)

CIK_FILE = re.compile(r"^CIK(\d{10})\.json$", re.IGNORECASE)
#: Lines read, parsed and validated at a time (about 10 MB of frames).
CHUNK_LINES = 50_000
BOM = b"\xef\xbb\xbf"
_EXTRA = "__extra__"


@dataclass(frozen=True, slots=True)
class FolderQuery:
    """What to read from a folder; ``symbols`` None means every file."""

    root: Path
    symbols: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class PriceFile:
    """One price file; ``listed`` (from the universe) bounds its first date."""

    path: Path
    symbol: str
    listed: date | None = None


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
            price_files.append(PriceFile(path, symbol, universe.get(symbol).listed))
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


def iter_price_chunks(file: PriceFile, limits: PriceLimits | None = None,
                      chunk_lines: int = CHUNK_LINES) -> Iterator[pd.DataFrame]:
    """Canonical bars of one price CSV, validated chunk by chunk.

    A chunk is yielded only once it is valid; a duplicate date is found across
    chunks. Callers that write must do so in one transaction that a later
    chunk's error rolls back (see ``bubblewatch.app.jobs``).

    Raises
    ------
    IngestError
        Naming the file, physical line, column, value and what is allowed.
    EmptyDataError
        The file has no header or no rows.
    """
    source = str(file.path)
    limits = (limits or PriceLimits()).after_listing(file.listed, file.symbol)
    seen = DateLedger()
    header: dict[int, str] | None = None
    width = 0
    rows = 0
    for texts, numbers in _line_blocks(file.path, source, chunk_lines):
        if header is None:
            names = _split_header(texts[0], source, int(numbers[0]))
            header, width = canonical_positions(names, source), len(names)
            texts, numbers = texts[1:], numbers[1:]
            if not texts:
                continue
        raw = _parse_block(texts, numbers, header, width, source)
        rows += len(raw)
        yield canonical_bars(raw, source, lines=numbers, limits=limits, seen=seen)
    if header is None:
        raise EmptyDataError("the file is empty; expected a header line and price rows",
                             source=source)
    if rows == 0:
        raise EmptyDataError("no price rows below the header", source=source)


def read_prices(file: PriceFile, limits: PriceLimits | None = None) -> pd.DataFrame:
    """Read and validate one whole price CSV (canonical bars)."""
    return pd.concat(list(iter_price_chunks(file, limits))).sort_index()


def read_facts(file: FactsFile, symbol: str | None) -> list[FactRow]:
    """Read and validate one companyfacts JSON file."""
    raw = file.path.read_bytes()
    data = load_json(raw, str(file.path))
    return parse_companyfacts(data, str(file.path), symbol=symbol, expected_cik=file.cik,
                              source_tag="file")


# --------------------------------------------------------------------------- reading
def _line_blocks(path: Path, source: str,
                 chunk_lines: int) -> Iterator[tuple[list[bytes], np.ndarray]]:
    """Non-blank lines (without their line ending) and their physical line
    numbers, ``chunk_lines`` at a time; bytes that are not UTF-8 and carriage
    returns inside a line raise."""
    texts: list[bytes] = []
    numbers: list[int] = []
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise IngestError(f"cannot open the file: {exc.strerror}", source=source) from None
    with fh:
        for n, line in enumerate(fh, start=1):
            if n == 1 and line.startswith(BOM):
                line = line[len(BOM):]
            body = line.rstrip(b"\n").removesuffix(b"\r")
            if not body.strip():
                continue
            texts.append(body)
            numbers.append(n)
            if len(texts) >= chunk_lines:
                yield _checked(texts, numbers, source)
                texts, numbers = [], []
    if texts:
        yield _checked(texts, numbers, source)


def _checked(texts: list[bytes], numbers: list[int],
             source: str) -> tuple[list[bytes], np.ndarray]:
    block = b"\n".join(texts)
    if b"\r" in block:
        i = next(k for k, t in enumerate(texts) if b"\r" in t)
        raise IngestError("a carriage return (\\r) inside the line; allowed: lines ending in "
                          "\\n or \\r\\n (save the file with Unix or Windows line endings)",
                          source=source, location=f"line {numbers[i]}")
    try:
        block.decode("utf-8")
    except UnicodeDecodeError:
        for k, t in enumerate(texts):
            try:
                t.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = t[exc.start:exc.start + 1].hex()
                raise IngestError(f"byte 0x{bad} is not UTF-8; allowed: UTF-8 text (save the "
                                  "file as UTF-8)", source=source,
                                  location=f"line {numbers[k]}, byte {exc.start + 1}") from None
    return texts, np.asarray(numbers, dtype=np.int64)


def _split_header(line: bytes, source: str, number: int) -> list[str]:
    try:
        return next(csv.reader([line.decode("utf-8")]))
    except csv.Error as exc:
        raise IngestError(f"the header is not CSV ({exc})", source=source,
                          location=f"line {number}") from None


def _parse_block(texts: list[bytes], numbers: np.ndarray, header: dict[int, str], width: int,
                 source: str) -> pd.DataFrame:
    """The recognised columns of a block of data lines, as text."""
    names = [f"c{i}" for i in range(width)] + [_EXTRA]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            df = pd.read_csv(io.BytesIO(b"\n".join(texts)), header=None, names=names,
                             dtype=str, keep_default_na=False, index_col=False,
                             skip_blank_lines=False, engine="c", encoding="utf-8")
    except (pd.errors.ParserError, ValueError) as exc:
        raise _locate_malformed(texts, numbers, width, source, str(exc)) from None
    if len(df) != len(texts):
        raise _locate_malformed(texts, numbers, width, source, "rows and lines do not match")
    extra = df[_EXTRA].astype(str).str.strip().ne("").to_numpy()
    if extra.any():
        i = int(np.argmax(extra))
        raise IngestError(f"more fields than the header's {width}; allowed: one field per "
                          "header column", source=source, location=f"line {numbers[i]}")
    out = df.iloc[:, list(header)]
    out.columns = list(header.values())
    return out


def _locate_malformed(texts: list[bytes], numbers: np.ndarray, width: int, source: str,
                      detail: str) -> IngestError:
    """The first line of a block that is not one CSV record of at most
    ``width`` fields."""
    for t, n in zip(texts, numbers, strict=True):
        text = t.decode("utf-8")
        if text.count('"') % 2:
            return IngestError("unbalanced quote; allowed: fields quoted with pairs of \" on "
                               "one line", source=source, location=f"line {n}")
        try:
            fields = next(csv.reader([text], strict=True))
        except csv.Error as exc:
            return IngestError(f"not a CSV record ({exc})", source=source, location=f"line {n}")
        if len(fields) > width:
            return IngestError(f"{len(fields)} fields, more than the header's {width}; allowed: "
                               "one field per header column", source=source,
                               location=f"line {n}")
    first = detail.splitlines()[0] if detail else "unknown error"
    return IngestError(f"malformed CSV ({first})", source=source,
                       location=f"lines {numbers[0]}-{numbers[-1]}")
