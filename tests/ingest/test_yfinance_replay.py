"""yfinance itself, through its own code path, against a local replay of Yahoo.

How the replay reaches yfinance (read from yfinance 1.7's source: ``data.py``,
``base.py``, ``scrapers/history.py``, ``_http.py``):

* yfinance 1.x sends every request through one curl_cffi session held by its
  ``YfData`` singleton; ``Ticker(symbol, session=...)`` replaces that session.
  bubblewatch always passes its own (:func:`ingest.yahoo.yahoo_session`), so
  the tests pass one too: the same class, with ``proxy=`` pointing at
  :class:`tests.ingest.replay.YahooReplay` and ``verify=`` at the replay's
  test CA.
* Through the proxy curl opens ``CONNECT query2.finance.yahoo.com:443``
  tunnels; the replay answers them with TLS under a certificate for Yahoo's
  names, then serves Yahoo's answers: the cookie (``fc.yahoo.com``, 404 with
  an ``A3`` cookie), the crumb (``/v1/test/getcrumb``), the time-zone probe
  and the price history (``/v8/finance/chart/{symbol}``, recorded shape:
  ``timestamp``, ``indicators.quote``, ``indicators.adjclose``,
  ``events.splits/dividends``, ``meta`` with ``exchangeTimezoneName``...).
  Nothing resolves Yahoo's names, so nothing leaves the machine.
* Rejected: patching ``yfinance.const._BASE_URL_`` (each module copies it at
  import, and the cookie and crumb URLs are literals in ``data.py``, so they
  would still go to Yahoo); ``yf.config.network.proxy`` (process-wide, and
  overwrites the proxy of whatever session yfinance holds); curl's
  ``CONNECT_TO`` (curl_cffi does not pass list values for it).

The session also names a local DNS server that knows no name, so a request
that escaped the proxy would fail here rather than go out. yfinance before 1.7
does exactly that (it resets the proxy of the session it is given), hence the
pin ``yfinance>=1.7,<2`` in ``pyproject.toml``.

yfinance keeps some state per process that the tests live with: the cookie
and crumb of the ``YfData`` singleton, a memo of past-dated requests (tests
ask for ``end=None``, as bubblewatch's daily runs do, which is never
memoised), and a time-zone cache under bubblewatch's cache folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import yfinance
from curl_cffi import CurlOpt

from bubblewatch.core.errors import (
    EmptyDataError,
    HttpStatusError,
    IngestError,
    TransientSourceError,
)
from ingest import yahoo
from tests.ingest.replay import (
    HTML_PAGE,
    Answer,
    Chart,
    NxDomainDns,
    YahooReplay,
    chart_json,
    closed_port,
    serving,
)

START = date(2024, 6, 3)
SPLIT_DAY = date(2024, 6, 10)  # NVIDIA's 10-for-1 split
#: NVDA's last close before the split, as printed that day (USD, pre-split shares).
NVDA_CLOSE_2024_06_07_PRE_SPLIT = 1208.88


def _yfinance_major() -> int:
    return int(yfinance.__version__.split(".")[0])


@pytest.fixture(scope="module")
def nvda(shared_data: Path) -> pd.DataFrame:
    bars = pd.read_csv(shared_data / "prices" / "NVDA.csv", parse_dates=["date"])
    return bars.set_index("date").loc["2024-06-03":"2024-06-14"]


@pytest.fixture()
def replay(tmp_path: Path, nvda: pd.DataFrame) -> Iterator[YahooReplay]:
    server = YahooReplay(tmp_path)
    server.charts["NVDA"] = Chart(nvda, splits=[(SPLIT_DAY, 10.0, 1.0)],
                                  dividends=[(date(2024, 6, 11), 0.01)],
                                  name="NVIDIA Corporation")
    with serving(server):
        yield server


def _fetch(session: object) -> yahoo.Fetch:
    from tests.conftest import make_settings

    cache = make_settings("sqlite://").resolved_cache_dir / "yfinance"
    return yahoo.yfinance_fetcher(session=session, cache_dir=cache, timeout_s=5)


def test_the_installed_yfinance_is_the_1x_line_pinned() -> None:
    assert _yfinance_major() == 1, yfinance.__version__


def test_yfinance_1x_frame_through_its_own_code(replay: YahooReplay, nvda: pd.DataFrame) -> None:
    raw = _fetch(replay.session())("NVDA", START, None)
    # the 1.x shape with auto_adjust=False and actions=True: single-level columns
    assert not isinstance(raw.columns, pd.MultiIndex)
    assert list(raw.columns) == ["Open", "High", "Low", "Close", "Adj Close", "Volume",
                                 "Dividends", "Stock Splits"]
    assert str(raw.index.tz) == "America/New_York" and raw.index.name == "Date"
    assert [d.date() for d in raw.index] == [d.date() for d in nvda.index]
    np.testing.assert_array_equal(raw["Close"].to_numpy(), nvda["close"].to_numpy())
    np.testing.assert_array_equal(raw["Adj Close"].to_numpy(), nvda["adj_close"].to_numpy())
    np.testing.assert_array_equal(raw["Volume"].to_numpy(), nvda["volume"].to_numpy())
    # auto_adjust=False: Close is not replaced by the dividend-adjusted close
    assert (raw["Close"] != raw["Adj Close"]).all()

    (request,) = replay.history_requests("NVDA")
    q = parse_qs(urlsplit(request).query)
    assert q["interval"] == ["1d"] and q["events"] == ["div,splits,capitalGains"]
    ny_midnight = datetime(2024, 6, 3, tzinfo=ZoneInfo("America/New_York"))
    assert int(q["period1"][0]) == int(ny_midnight.timestamp())

    bars = yahoo.transform(yahoo.YahooQuery("NVDA", START), raw)
    assert list(bars.columns) == ["open", "high", "low", "close", "adj_close", "volume"]
    assert bars.index.tz is None and list(bars.index) == list(nvda.index)
    pd.testing.assert_frame_equal(bars[["close", "adj_close"]],
                                  nvda[["close", "adj_close"]].rename_axis("date"),
                                  check_freq=False)


def test_a_split_leaves_closes_split_adjusted_and_adj_close_kept(replay: YahooReplay,
                                                                 nvda: pd.DataFrame) -> None:
    raw = _fetch(replay.session())("NVDA", START, None)
    splits = raw["Stock Splits"]
    assert splits[splits != 0].to_dict() == {
        pd.Timestamp(SPLIT_DAY, tz="America/New_York"): 10.0}
    assert raw["Dividends"].sum() == pytest.approx(0.01)

    bars = yahoo.transform(yahoo.YahooQuery("NVDA", START), raw)
    before, after = bars.loc["2024-06-07", "close"], bars.loc["2024-06-10", "close"]
    # split-adjusted: the pre-split print divided by ten, and no tenfold step
    assert before * 10 == pytest.approx(NVDA_CLOSE_2024_06_07_PRE_SPLIT, abs=0.005)
    assert 0.9 < after / before < 1.1
    # adj_close kept as Yahoo gave it (dividend-adjusted, below close), not copied from close
    np.testing.assert_array_equal(bars["adj_close"].to_numpy(), nvda["adj_close"].to_numpy())
    assert (bars["adj_close"] < bars["close"]).all()


def test_an_unknown_symbol_is_a_failure_not_an_empty_success(replay: YahooReplay) -> None:
    sleeps: list[float] = []
    with pytest.raises(EmptyDataError, match=r"^yahoo:ZZZZ: ") as info:
        yahoo.extract(yahoo.YahooQuery("ZZZZ", START), _fetch(replay.session()), retries=2,
                      backoff_s=1, sleep=sleeps.append)
    assert "\n" not in str(info.value)
    assert sleeps == []  # Yahoo said it does not know the symbol: no point asking again
    assert replay.history_requests("ZZZZ") == []  # no time zone, so no history request


@pytest.mark.parametrize(("headers", "expected_sleep"), [({"Retry-After": "7"}, 7.0), ({}, 0.5)])
def test_a_rate_limit_is_retried_after_its_retry_after_then_succeeds(
        replay: YahooReplay, nvda: pd.DataFrame, headers: dict[str, str],
        expected_sleep: float) -> None:
    # yfinance retries a 4xx once itself (with its other cookie strategy) before it
    # raises YFRateLimitError: two 429s make one failed try of bubblewatch's
    replay.script["NVDA"] = [Answer(429, b"Too Many Requests\r\n", headers)] * 2
    sleeps: list[float] = []
    raw = yahoo.extract(yahoo.YahooQuery("NVDA", START), _fetch(replay.session()), retries=3,
                        backoff_s=0.5, sleep=sleeps.append)
    assert sleeps == [expected_sleep]
    assert len(replay.history_requests("NVDA")) == 3
    np.testing.assert_array_equal(raw["Close"].to_numpy(), nvda["close"].to_numpy())


def _half_json(nvda: pd.DataFrame) -> bytes:
    body = json.dumps(chart_json("NVDA", Chart(nvda), {"range": ["1d"]})).encode()
    return body[: len(body) // 2]


# (case, script of history answers, session options, error class, message, tries)
BAD_ANSWERS = [
    ("http-403", [Answer(403, HTML_PAGE)] * 2, {}, HttpStatusError,
     r"HTTP 403: Access denied", 1),
    ("http-503", [Answer(503, b"<html><title>503</title></html>")] * 6, {}, HttpStatusError,
     r"HTTP 503.*gave up after 3 tries", 3),
    ("body-cut-short", [Answer(cut=True)] * 6, {}, TransientSourceError,
     r"cut short.*gave up after 3 tries", 3),
    ("html-not-json", [Answer(200, HTML_PAGE)], {}, IngestError,
     r"an HTML page titled 'Access denied' instead of JSON", 1),
    ("json-truncated", None, {}, IngestError, r"not valid JSON", 1),
    ("tls-untrusted", [], {"verify": True}, IngestError, r"TLS failure talking to Yahoo", 1),
]


@pytest.mark.parametrize(("case", "script", "options", "error", "message", "tries"), BAD_ANSWERS,
                         ids=[c[0] for c in BAD_ANSWERS])
def test_bad_answers_fail_the_symbol_with_one_line(
        replay: YahooReplay, nvda: pd.DataFrame, case: str, script: list[Answer] | None,
        options: dict, error: type[Exception], message: str, tries: int) -> None:
    replay.script["NVDA"] = list(script) if script is not None else [
        Answer(200, _half_json(nvda))]
    sleeps: list[float] = []
    with pytest.raises(error, match=message) as info:
        yahoo.extract(yahoo.YahooQuery("NVDA", START), _fetch(replay.session(**options)),
                      retries=2, backoff_s=0.25, sleep=sleeps.append)
    text = str(info.value)
    assert text.startswith("yahoo:NVDA: ") and "\n" not in text
    assert sleeps == [0.25 * 2**i for i in range(tries - 1)]
    assert not isinstance(info.value, EmptyDataError)


def test_no_network_and_dns_failure_fail_the_symbol_with_one_line() -> None:
    sleeps: list[float] = []
    refused = yahoo.yahoo_session(proxy=f"http://127.0.0.1:{closed_port()}", trust_env=False)
    with pytest.raises(TransientSourceError, match=r"connection failed.*gave up after 2 tries"):
        yahoo.extract(yahoo.YahooQuery("NVDA", START), _fetch(refused), retries=1, backoff_s=0,
                      sleep=sleeps.append)
    with NxDomainDns() as dns:
        unresolved = yahoo.yahoo_session(trust_env=False,
                                         curl_options={CurlOpt.DNS_SERVERS: dns.address})
        with pytest.raises(IngestError, match=r"^yahoo:NVDA: cannot resolve Yahoo's host") as info:
            yahoo.extract(yahoo.YahooQuery("NVDA", START), _fetch(unresolved), retries=1,
                          backoff_s=0, sleep=sleeps.append)
        assert dns.questions > 0
    assert "\n" not in str(info.value) and "--from-dir" in str(info.value)
    assert sleeps == [0]  # the refused connection was tried twice, the DNS failure once
