"""Universe files (CSV and TOML), dated membership, and `bubblewatch universe`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bubblewatch.core.errors import ConfigError
from bubblewatch.core.settings import Settings
from bubblewatch.core.universe_files import read_universe_file

GOOD_CSV = """symbol,name,cohort,cik,joined,left
NVDA,NVIDIA,ai;semis,1045810,2001-11-30,
XLNX,Xilinx,semis,743988,1999-01-01,2022-02-15
ABC,Abc Corp,,,2005-01-03,2010-01-04
ABC,Abc Corp,,,2012-06-01,
"""

GOOD_TOML = """
name = "chips"
description = "a watchlist"
[[members]]
symbol = "amd"
cohort = ["semis"]
joined = 2000-01-03
[[members]]
symbol = "TSM"
cohorts = "foundry"
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_csv_and_toml_universes(tmp_path: Path) -> None:
    uf = read_universe_file(_write(tmp_path, "S&P Tech.csv", GOOD_CSV))
    assert uf.name == "s_p_tech" and uf.symbols == ["NVDA", "XLNX", "ABC"]
    assert [r.cohorts for r in uf.rows][:2] == [("ai", "semis"), ("semis",)]
    t = read_universe_file(_write(tmp_path, "w.toml", GOOD_TOML))
    assert t.name == "chips" and t.symbols == ["AMD", "TSM"] and t.description == "a watchlist"
    assert t.rows[1].cohorts == ("foundry",)


def test_members_on_follows_the_dated_spans(tmp_path: Path) -> None:
    path = _write(tmp_path, "tech.csv", GOOD_CSV)
    u = Settings(universe={"file": str(path)}).universe
    assert u.name == "tech" and len(u.symbols) == 18 + 2  # NVDA is a default symbol
    assert u.get("NVDA").cohorts == ("ai", "semis") and u.get("NVDA").cik == 1045810
    on = {d: set(u.members_on(date.fromisoformat(d))) for d in
          ("1998-06-01", "2006-01-02", "2011-01-03", "2012-06-01", "2022-02-15")}
    assert "XLNX" not in on["1998-06-01"] and "NVDA" not in on["1998-06-01"]
    assert {"XLNX", "ABC", "NVDA"} <= on["2006-01-02"]
    assert "ABC" not in on["2011-01-03"] and "ABC" in on["2012-06-01"]  # left, then rejoined
    assert "XLNX" not in on["2022-02-15"]  # left is the first day outside
    assert "CSCO" in on["1998-06-01"]  # default instruments have no dates: always members
    assert u.resolve("abc") == "ABC"


@pytest.mark.parametrize(("name", "text", "where"), [
    ("a.csv", "symbol,name\nNVDA,NVIDIA\nBAD SYMBOL,x\n", "line 3, field 'symbol'"),
    ("b.csv", "symbol,cik\nNVDA,12x\n", "line 2, field 'cik'"),
    ("c.csv", "symbol,joined\nNVDA,2020-13-01\n", "line 2, field 'joined'"),
    ("d.csv", "symbol,joined,left\nNVDA,2020-01-01,2019-01-01\n", "line 2, field 'left'"),
    ("e.csv", "ticker\nNVDA\n", "line 1: unknown column 'ticker'"),
    ("f.csv", "symbol,joined,left\nX,2000-01-01,2010-01-01\nX,2005-01-01,\n",
     "row 3, field 'joined'"),
    ("g.csv", "symbol,cohort\nNVDA,AI Cycle\n", "line 2, field 'cohort'"),
    ("h.csv", "symbol,name\nNVDA\n", "line 2: 1 fields, the header has 2"),
    ("i.toml", "[[members]]\nname = 'x'\n", "member 1: field 'symbol' is missing"),
    ("j.toml", "[[members]]\nsymbol = 'X'\nsector = 'y'\n", "member 1: unknown field 'sector'"),
    ("k.toml", "members = [", "not valid TOML"),
    ("l.txt", "NVDA\n", "must end in .csv or .toml"),
])
def test_bad_files_name_file_row_and_field(tmp_path: Path, name: str, text: str,
                                           where: str) -> None:
    path = _write(tmp_path, name, text)
    with pytest.raises(ConfigError) as err:
        read_universe_file(path)
    assert str(path) in str(err.value) and where in str(err.value)


def test_universe_add_list_show_and_select(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bubblewatch.app.cli import app
    from bubblewatch.core.settings import get_settings
    from db import repo
    from db.session import session_scope

    monkeypatch.setenv("BUBBLEWATCH_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    runner = CliRunner()
    res = runner.invoke(app, ["universe", "add", str(_write(tmp_path, "tech.csv", GOOD_CSV)),
                              "--name", "tech"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "data" / "universes" / "tech.toml").is_file()
    res = runner.invoke(app, ["universe", "show", "tech"])
    assert res.exit_code == 0 and "XLNX" in res.output and "2022-02-15" in res.output
    bad = runner.invoke(app, ["universe", "add", str(_write(tmp_path, "x.csv", "symbol,cik\nA,-1\n"))])
    assert bad.exit_code == 1 and "x.csv, line 2, field 'cik'" in bad.output
    monkeypatch.setenv("BUBBLEWATCH_CONFIG",
                       str(_write(tmp_path, "bubblewatch.toml", '[universe]\nname = "tech"\n')))
    get_settings.cache_clear()
    res = runner.invoke(app, ["universe", "list"])
    assert res.exit_code == 0 and "in use: tech (20 symbols)" in res.output
    with session_scope(get_settings().resolved_database_url) as s:
        members = repo.universe_members(s, "tech")
    assert list(members.loc[members["symbol"] == "ABC", "left"]) == [date(2010, 1, 4), None]
    get_settings.cache_clear()


def test_baskets_hold_a_member_only_while_it_belongs(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd

    from indicators.frame_source import FrameSource
    from indicators.runup import key_series

    idx = pd.bdate_range("2019-12-30", periods=10, name="date")
    up = pd.DataFrame({"adj_close": 100 * 1.10 ** np.arange(10)}, index=idx)  # +10% a day
    flat = pd.DataFrame({"adj_close": np.full(10, 50.0)}, index=idx)
    csv = ("symbol,joined,left\nUPCO,2020-01-03,2020-01-08\nFLATCO,,\n")
    u = Settings(universe={"file": str(_write(tmp_path, "b.csv", csv)),
                           "baskets": {"b": ["UPCO", "FLATCO"]}}).universe
    assert u.members_on(date(2020, 1, 2)) and "UPCO" not in u.members_on(date(2020, 1, 2))
    basket = key_series(FrameSource({"UPCO": up, "FLATCO": flat}), u, "b")
    daily = basket.pct_change().dropna().round(10)
    # UPCO counts from the day after it joined (2020-01-06) until it left (2020-01-07)
    assert daily[daily != 0].index.strftime("%Y-%m-%d").tolist() == ["2020-01-06", "2020-01-07"]
    assert np.allclose(daily[daily != 0], 0.05)
