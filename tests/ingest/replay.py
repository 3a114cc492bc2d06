"""Local stand-ins for the live price sources, serving their recorded answer
formats; nothing here reaches the network.

* :class:`YahooReplay` is an HTTP proxy. yfinance is given a session whose
  ``proxy`` is this server; curl asks it to ``CONNECT`` to Yahoo's hosts
  (``query1/query2.finance.yahoo.com``, ``fc.yahoo.com``...), and the server
  answers the tunnel itself with TLS, under a certificate for those names
  from a test CA (``trustme``) that the session is told to trust
  (``verify=``). yfinance thus runs unchanged: its curl_cffi transport, TLS,
  real URLs, cookie (``fc.yahoo.com``, answered 404 with an ``A3`` cookie as
  Yahoo does) and crumb (``/v1/test/getcrumb``) requests, and its parsing of
  the v8 chart JSON. Through a proxy curl never resolves Yahoo's names, so
  no DNS query leaves the machine either.
* :class:`NasdaqReplay` answers Nasdaq's ``/api/quote/{SYMBOL}/historical``, and
  :class:`SecReplay` SEC EDGAR's companyfacts documents.
* :class:`NxDomainDns` is a DNS server that answers every question "no such
  name", for a DNS failure without a network (curl's ``DNS_SERVERS``).

Each server takes a script of :class:`Answer` overrides, consumed one per
data request, before it falls back to the recorded answer.
"""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Self
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pandas as pd
import trustme

YAHOO_HOSTS = ("query1.finance.yahoo.com", "query2.finance.yahoo.com", "fc.yahoo.com",
               "guce.yahoo.com", "consent.yahoo.com", "finance.yahoo.com")
NEW_YORK = ZoneInfo("America/New_York")
CRUMB = "rEpLaYcRuMb"


@dataclass
class Answer:
    """One scripted answer: ``status`` with ``body`` (``None``: the recorded
    answer) and ``headers``; ``cut`` sends only the first half of the body
    under a ``Content-Length`` for all of it, then closes the connection."""

    status: int = 200
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cut: bool = False

    @property
    def recorded(self) -> bool:
        """Whether the server's recorded answer is sent (possibly cut)."""
        return self.status == 200 and self.body is None


def content_type(body: bytes | None) -> str:
    return "text/html" if (body or b"").lstrip()[:1] == b"<" else "application/json"


HTML_PAGE = (b"<!DOCTYPE html><html><head><title>Access denied</title></head>"
             b"<body><h1>Sorry, you have been blocked</h1></body></html>")


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, answer: Answer, content_type: str = "application/json") -> None:
        body = answer.body or b""
        self.send_response(answer.status)
        headers = {"Content-Type": content_type, **answer.headers}
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if answer.cut:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


# --------------------------------------------------------------------------- Yahoo


def _ts(day: date, tz: ZoneInfo = NEW_YORK) -> int:
    """Yahoo stamps a daily bar with the session open, 09:30 exchange time."""
    return int(datetime.combine(day, time(9, 30), tz).timestamp())


@dataclass
class Chart:
    """What Yahoo's chart API knows of one symbol: daily bars (``date`` index;
    ``open, high, low, close, adj_close, volume`` with ``close`` split-adjusted
    as Yahoo's chart ``close`` is), splits ``(day, numerator, denominator)``
    and dividends ``(day, amount)``."""

    bars: pd.DataFrame
    splits: list[tuple[date, float, float]] = field(default_factory=list)
    dividends: list[tuple[date, float]] = field(default_factory=list)
    name: str = ""


def chart_json(symbol: str, chart: Chart, query: dict[str, list[str]]) -> dict:
    """A v8 ``/finance/chart/{symbol}`` answer in Yahoo's recorded shape:
    ``range=1d`` (yfinance's time-zone probe) gives the last bar, ``period1``/
    ``period2`` the bars whose stamp lies in ``[period1, period2)``."""
    days = [d.date() for d in chart.bars.index]
    stamps = [_ts(d) for d in days]
    if "period1" in query:
        p1, p2 = int(query["period1"][0]), int(query["period2"][0])
        keep = [i for i, t in enumerate(stamps) if p1 <= t < p2]
    else:
        keep = [len(stamps) - 1]
    sub = chart.bars.iloc[keep]
    last = chart.bars.iloc[-1]
    last_day = days[-1]

    def period(start: time, end: time) -> dict:
        return {"timezone": "EDT", "gmtoffset": -14400,
                "start": int(datetime.combine(last_day, start, NEW_YORK).timestamp()),
                "end": int(datetime.combine(last_day, end, NEW_YORK).timestamp())}

    events: dict = {}
    if chart.dividends:
        events["dividends"] = {str(_ts(d)): {"amount": a, "date": _ts(d)}
                               for d, a in chart.dividends}
    if chart.splits:
        events["splits"] = {str(_ts(d)): {"date": _ts(d), "numerator": n, "denominator": m,
                                          "splitRatio": f"{n:g}:{m:g}"}
                            for d, n, m in chart.splits}
    result = {
        "meta": {
            "currency": "USD", "symbol": symbol, "exchangeName": "NMS",
            "fullExchangeName": "NasdaqGS", "instrumentType": "EQUITY",
            "firstTradeDate": 917015400, "regularMarketTime": stamps[-1] + 23400,
            "hasPrePostMarketData": True, "gmtoffset": -14400, "timezone": "EDT",
            "exchangeTimezoneName": "America/New_York",
            "regularMarketPrice": float(last["close"]),
            "fiftyTwoWeekHigh": float(chart.bars["high"].max()),
            "fiftyTwoWeekLow": float(chart.bars["low"].min()),
            "regularMarketDayHigh": float(last["high"]), "regularMarketDayLow": float(last["low"]),
            "regularMarketVolume": int(last["volume"]),
            "longName": chart.name or symbol, "shortName": chart.name or symbol,
            "chartPreviousClose": float(chart.bars["close"].iloc[0]), "priceHint": 2,
            "currentTradingPeriod": {"pre": period(time(4), time(9, 30)),
                                     "regular": period(time(9, 30), time(16)),
                                     "post": period(time(16), time(20))},
            "dataGranularity": "1d", "range": query.get("range", [""])[0],
            "validRanges": ["1d", "5d", "1mo", "3mo", "6mo", "1y", "2y", "5y", "10y", "ytd",
                            "max"],
        },
        "timestamp": [stamps[i] for i in keep],
        "events": events,
        "indicators": {
            "quote": [{"open": sub["open"].tolist(), "high": sub["high"].tolist(),
                       "low": sub["low"].tolist(), "close": sub["close"].tolist(),
                       "volume": sub["volume"].astype("int64").tolist()}],
            "adjclose": [{"adjclose": sub["adj_close"].tolist()}],
        },
    }
    if not events:
        del result["events"]
    return {"chart": {"result": [result], "error": None}}


NOT_FOUND_CHART = json.dumps({"chart": {"result": None, "error": {
    "code": "Not Found", "description": "No data found, symbol may be delisted"}}}).encode()


class YahooReplay(http.server.ThreadingHTTPServer):
    """See the module docstring. ``charts`` maps symbols to :class:`Chart`;
    ``script`` maps a symbol to answers that replace its price-history
    answers (not the time-zone probe) one by one; ``requests`` records
    ``(host, path and query, cookie)``."""

    daemon_threads = True

    def __init__(self, folder: Path):
        ca = trustme.CA()
        self.ca_path = folder / "yahoo-replay-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_path))
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(*YAHOO_HOSTS).configure_cert(self.tls)
        self.charts: dict[str, Chart] = {}
        self.script: dict[str, list[Answer]] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        self.lock = threading.Lock()
        self.dns = NxDomainDns()
        super().__init__(("127.0.0.1", 0), _YahooHandler)

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        with self.dns:
            super().serve_forever(poll_interval)

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def session(self, **kwargs: object) -> object:
        """A bubblewatch Yahoo session routed through this server. Its DNS
        server is :attr:`dns` (every name unknown), so that a request that
        escaped the proxy would fail here instead of going out."""
        from curl_cffi import CurlOpt

        from ingest.yahoo import yahoo_session

        kwargs = {"proxy": self.proxy_url, "verify": str(self.ca_path), "trust_env": False,
                  "curl_options": {CurlOpt.DNS_SERVERS: self.dns.address}, **kwargs}
        return yahoo_session(**kwargs)

    def history_requests(self, symbol: str) -> list[str]:
        return [p for _, p, _ in self.requests
                if p.startswith(f"/v8/finance/chart/{symbol}?") and "period1=" in p]


class _YahooHandler(_Handler):
    server: YahooReplay

    def do_CONNECT(self) -> None:
        host = self.path.rsplit(":", 1)[0]
        if host not in YAHOO_HOSTS:
            self.reply(Answer(502, b"not a Yahoo host"), "text/plain")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        try:
            conn = self.server.tls.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True  # the client refused our certificate
            return
        self.connection = conn
        self.rfile = conn.makefile("rb")
        self.wfile = conn.makefile("wb")
        self.close_connection = False

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0]
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        with self.server.lock:
            self.server.requests.append((host, self.path, self.headers.get("Cookie")))
        if host == "fc.yahoo.com":
            self.reply(Answer(404, b"<html><body>404</body></html>", {
                "Set-Cookie": "A3=d=AQABBReplay&S=AQAAAReplay; Expires=Fri, 01 Jan 2038 "
                              "00:00:00 GMT; Max-Age=31557600; Domain=.yahoo.com; Path=/; "
                              "SameSite=None; Secure; HttpOnly"}), "text/html")
        elif url.path == "/v1/test/getcrumb":
            self.reply(Answer(200, CRUMB.encode()), "text/plain;charset=utf-8")
        elif url.path.startswith("/v8/finance/chart/"):
            self._chart(url.path.rsplit("/", 1)[1], query)
        elif url.path.startswith("/v10/finance/quoteSummary/"):
            sym = url.path.rsplit("/", 1)[1]
            self.reply(Answer(404, json.dumps({"quoteSummary": {"result": None, "error": {
                "code": "Not Found", "description": f"Quote not found for symbol: {sym}"}}})
                .encode()))
        else:
            self.reply(Answer(404, b"<html><body>Not found</body></html>"), "text/html")

    def _chart(self, symbol: str, query: dict[str, list[str]]) -> None:
        scripted = Answer()
        if "period1" in query:
            with self.server.lock:
                todo = self.server.script.get(symbol)
                if todo:
                    scripted = todo.pop(0)
        if not scripted.recorded:
            self.reply(scripted, content_type(scripted.body))
            return
        chart = self.server.charts.get(symbol)
        if chart is None:
            self.reply(Answer(404, NOT_FOUND_CHART))
            return
        body = json.dumps(chart_json(symbol, chart, query)).encode()
        self.reply(Answer(200, body, cut=scripted.cut))


# --------------------------------------------------------------------------- Nasdaq


NASDAQ_UNKNOWN = json.dumps({"data": None, "message": None, "status": {
    "rCode": 400, "bCodeMessage": [{"code": 1001, "errorMessage": "Symbol not exists."}],
    "developerMessage": None}}).encode()


def nasdaq_json(symbol: str, bars: pd.DataFrame, index: bool, start: date, end: date) -> dict:
    """Nasdaq's historical-quote answer: newest first, ``MM/DD/YYYY`` dates,
    prices as text (``$1,208.88`` for stocks, ``5,048.62`` for indices),
    volumes with thousands separators (``--`` for indices)."""
    sub = bars.loc[(bars.index >= pd.Timestamp(start)) & (bars.index <= pd.Timestamp(end))]
    rows = []
    for day, r in sub.iloc[::-1].iterrows():
        def price(v: float) -> str:
            return f"{v:,.2f}" if index else f"${v:,.2f}"

        rows.append({"date": day.strftime("%m/%d/%Y"), "close": price(r["close"]),
                     "volume": "--" if index else f"{int(r['volume']):,}",
                     "open": price(r["open"]), "high": price(r["high"]), "low": price(r["low"])})
    return {"data": {"symbol": symbol, "totalRecords": len(rows), "tradesTable": {
        "asOf": None, "headers": {"date": "Date", "close": "Close/Last", "volume": "Volume",
                                  "open": "Open", "high": "High", "low": "Low"},
        "rows": rows}}, "message": None, "status": {"rCode": 200, "bCodeMessage": None,
                                                    "developerMessage": None}}


class ScriptedServer(http.server.ThreadingHTTPServer):
    """A local HTTP (``tls`` given: HTTPS) server whose ``script`` of answers
    replaces its next recorded ones."""

    daemon_threads = True

    def __init__(self, handler: type[_Handler], tls: ssl.SSLContext | None = None):
        self.script: list[Answer] = []
        super().__init__(("127.0.0.1", 0), handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"

    def next_answer(self) -> Answer:
        return self.script.pop(0) if self.script else Answer()


class NasdaqReplay(ScriptedServer):
    """``bars`` maps Nasdaq symbols to ``(bars, is_index)``; ``requests``
    records ``(path, headers)``."""

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.bars: dict[str, tuple[pd.DataFrame, bool]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        super().__init__(_NasdaqHandler, tls)


class _NasdaqHandler(_Handler):
    server: NasdaqReplay

    def do_GET(self) -> None:
        self.server.requests.append((self.path, dict(self.headers)))
        answer = self.server.next_answer()
        if not answer.recorded:
            self.reply(answer, content_type(answer.body))
            return
        url = urlsplit(self.path)
        parts = url.path.split("/")  # ['', 'api', 'quote', SYM, 'historical']
        q = parse_qs(url.query)
        if len(parts) != 5 or parts[1:3] != ["api", "quote"] or parts[4] != "historical":
            self.reply(Answer(404, b"<html><title>404</title></html>"), "text/html")
            return
        known = self.server.bars.get(parts[3])
        if known is None:
            self.reply(Answer(200, NASDAQ_UNKNOWN))
            return
        bars, index = known
        if q.get("assetclass", [""])[0] != ("index" if index else "stocks"):
            self.reply(Answer(200, NASDAQ_UNKNOWN))
            return
        start = date.fromisoformat(q["fromdate"][0])
        end = date.fromisoformat(q.get("todate", [date.today().isoformat()])[0])
        body = json.dumps(nasdaq_json(parts[3], bars, index, start, end)).encode()
        self.reply(Answer(200, body, cut=answer.cut))


# --------------------------------------------------------------------------- SEC


class SecReplay(ScriptedServer):
    """SEC EDGAR's ``/api/xbrl/companyfacts/CIK##########.json`` from the
    files of ``folder``; ``requests`` records ``(path, User-Agent)``."""

    def __init__(self, folder: Path, tls: ssl.SSLContext | None = None):
        self.folder = folder
        self.requests: list[tuple[str, str | None]] = []
        super().__init__(_SecHandler, tls)


class _SecHandler(_Handler):
    server: SecReplay

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("User-Agent")))
        answer = self.server.next_answer()
        if not answer.recorded:
            self.reply(answer, content_type(answer.body))
            return
        path = self.server.folder / self.path.rsplit("/", 1)[-1]
        if not path.is_file():
            self.reply(Answer(404, b"<html><title>404 Not Found</title></html>"), "text/html")
            return
        self.reply(Answer(200, path.read_bytes(), cut=answer.cut))


# --------------------------------------------------------------------------- DNS


class NxDomainDns:
    """A UDP DNS server on 127.0.0.1 that answers every query NXDOMAIN."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.questions = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            if len(data) < 12:
                continue
            end = 12
            while end < len(data) and data[end] != 0:
                end += data[end] + 1
            question = data[12:end + 5]
            # same id; QR, RD, RA set; RCODE 3 (name error); one question, no records
            reply = data[:2] + b"\x81\x83" + b"\x00\x01\x00\x00\x00\x00\x00\x00" + question
            self.questions += 1
            self.sock.sendto(reply, peer)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@contextmanager
def serving(server: http.server.ThreadingHTTPServer) -> Iterator[http.server.ThreadingHTTPServer]:
    """Run ``server`` in a thread for the duration of the block."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

