"""A :class:`~indicators.registry.DataSource` over in-memory DataFrames.

Used by tests, notebooks and the Python API when the inputs are already at
hand; the compute job uses :class:`db.source.DatabaseSource` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

FACT_COLUMNS = [
    "concept", "period_start", "period_end", "value", "unit", "fiscal_year",
    "fiscal_period", "form", "filed", "accession", "source",
]


@dataclass
class FrameSource:
    """Inputs held in memory. ``prices`` maps symbol -> daily bars (DatetimeIndex);
    ``facts`` maps symbol -> long facts frame (see ``FACT_COLUMNS``);
    ``results`` maps (indicator, key) -> wide result frame."""

    price_frames: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    fact_frames: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    reference_frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    events_frame: pd.DataFrame = field(default_factory=pd.DataFrame)
    results: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)

    def prices(self, symbol: str) -> pd.DataFrame:
        return self.price_frames.get(symbol, pd.DataFrame())

    def facts(self, symbol: str, as_of: date | None = None) -> pd.DataFrame:
        df = self.fact_frames.get(symbol)
        if df is None:
            return pd.DataFrame(columns=FACT_COLUMNS)
        if as_of is not None:
            df = df[pd.to_datetime(df["filed"]) <= pd.Timestamp(as_of)]
        return df

    def reference(self) -> pd.DataFrame:
        return self.reference_frame

    def events(self) -> pd.DataFrame:
        return self.events_frame

    def indicator(self, name: str, key: str) -> pd.DataFrame:
        return self.results.get((name, key), pd.DataFrame())
