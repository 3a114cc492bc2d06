"""Shared test helpers.

Real data for tests lives in ``../shared/data`` beside the repository (never
copied into it). ``BUBBLEWATCH_SHARED_DATA`` overrides the location.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("BUBBLEWATCH_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def load_shared_prices(symbol: str) -> pd.DataFrame:
    """Daily bars from ``../shared/data/prices/<SYMBOL>.csv`` (``^IXIC`` -> ``IXIC.csv``),
    indexed by a ``DatetimeIndex`` named ``date``."""
    path = SHARED_DATA / "prices" / f"{symbol.lstrip('^')}.csv"
    df = pd.read_csv(path, parse_dates=["date"]).set_index("date")
    return df


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "prices").is_dir():
        raise RuntimeError(
            f"real test data not found at {SHARED_DATA}; place the shared/ folder beside the "
            "repository or set BUBBLEWATCH_SHARED_DATA"
        )
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test away from the user's data folder, caches and config."""
    home = tmp_path_factory.getbasetemp() / "bw-home"
    home.mkdir(exist_ok=True)
    monkeypatch.setenv("BUBBLEWATCH_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("BUBBLEWATCH_CACHE_DIR", str(home / "cache"))
    monkeypatch.delenv("BUBBLEWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("BUBBLEWATCH_CONFIG", raising=False)
