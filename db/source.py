""":class:`~indicators.registry.DataSource` over the database, used by the
compute job. Reads are cached per source object (one compute run)."""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy.orm import Session

from bubblewatch.core.universe import Universe
from db import repo


class DatabaseSource:
    def __init__(self, session: Session, universe: Universe):
        self.session = session
        self.universe = universe
        self._prices: dict[str, pd.DataFrame] = {}
        self._facts: dict[tuple[str, date | None], pd.DataFrame] = {}
        self._reference: pd.DataFrame | None = None
        self._events: pd.DataFrame | None = None

    def prices(self, symbol: str) -> pd.DataFrame:
        if symbol not in self._prices:
            self._prices[symbol] = repo.price_frame(self.session, symbol)
        return self._prices[symbol]

    def facts(self, symbol: str, as_of: date | None = None) -> pd.DataFrame:
        k = (symbol, as_of)
        if k not in self._facts:
            try:
                cik = self.universe.get(symbol).cik
            except KeyError:
                cik = None
            self._facts[k] = (
                repo.facts_frame(self.session, cik=cik, as_of=as_of)
                if cik is not None
                else repo.facts_frame(self.session, symbol=symbol, as_of=as_of)
            )
        return self._facts[k]

    def reference(self) -> pd.DataFrame:
        if self._reference is None:
            self._reference = repo.reference_frame(self.session)
        return self._reference

    def events(self) -> pd.DataFrame:
        if self._events is None:
            self._events = repo.events_frame(self.session)
        return self._events

    def indicator(self, name: str, key: str) -> pd.DataFrame:
        return repo.indicator_wide(self.session, name, key)
