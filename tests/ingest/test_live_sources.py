"""Live sources against local stand-ins: a real HTTP server for SEC EDGAR and
an injected download function for yfinance. Nothing reaches the network."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from bubblewatch.app.jobs import ingest_edgar, ingest_yahoo
from bubblewatch.core.errors import EmptyDataError, IngestError
from db import repo
from db.session import session_scope
from ingest import edgar, yahoo
from ingest.http import HttpClient, RateLimiter
from tests.conftest import REPO_ROOT, make_settings


class _Recorder(http.server.ThreadingHTTPServer):
    def __init__(self, root: Path, script: list[int]):
        self.root, self.script, self.requests = root, script, []
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Recorder

    def do_GET(self) -> None:
        self.server.requests.append((self.path, self.headers.get("User-Agent"), time.monotonic()))
        status = self.server.script.pop(0) if self.server.script else 200
        if status != 200:
            self.send_response(status)
            if status == 429:
                self.send_header("Retry-After", "0")
            self.end_headers()
            return
        name = self.path.rsplit("/", 1)[-1]
        path = self.server.root / name
        if not path.is_file():
            self.send_response(404)
            self.end_headers()
            return
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def sec_server(shared_data: Path) -> Iterator[_Recorder]:
    server = _Recorder(shared_data / "edgar", [])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _base(server: _Recorder) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_edgar_through_http_equals_the_local_file(sec_server: _Recorder, db_url: str,
                                                  shared_data: Path) -> None:
    sec_server.script[:] = [500, 429]  # one server error, one rate limit, then the file
    settings = make_settings(db_url, sec={"base_url": _base(sec_server),
                                          "user_agent": "bubblewatch-test ops@example.org"},
                             universe={"symbols": ["NVDA", "CSCO"]})
    client = HttpClient(settings.sec.user_agent, rate=50, retries=3, backoff_s=0.01)
    report = ingest_edgar(settings, client=client, use_cache=False)
    # CSCO's companyfacts is not on the stand-in server: a 404 fails that symbol only
    assert set(report.counts) == {"NVDA"} and set(report.errors) == {"CSCO"}
    assert "HTTP 404" in report.errors["CSCO"]
    paths = [p for p, _, _ in sec_server.requests]
    assert paths[:3] == ["/api/xbrl/companyfacts/CIK0001045810.json"] * 3
    assert {ua for _, ua, _ in sec_server.requests} == {"bubblewatch-test ops@example.org"}
    q = edgar.EdgarQuery(1045810, "NVDA")
    local = edgar.transform(q, (shared_data / "edgar" / "CIK0001045810.json").read_bytes())
    assert report.counts["NVDA"].inserted == len(local)


def test_rate_limiter_spaces_requests() -> None:
    slept: list[float] = []
    now = [0.0]
    limiter = RateLimiter(10, clock=lambda: now[0], sleep=slept.append)
    for _ in range(5):
        limiter.wait()
    assert slept == pytest.approx([0.1, 0.2, 0.3, 0.4])


def _bars(n: int = 5) -> pd.DataFrame:
    idx = pd.date_range("2024-01-02", periods=n, freq="B", tz="America/New_York", name="Date")
    return pd.DataFrame({"Open": 1.0, "High": 2.0, "Low": 0.5, "Close": 1.5, "Adj Close": 1.4,
                         "Volume": 100}, index=idx)


def test_yahoo_empty_frame_is_a_failure_after_retries() -> None:
    calls: list[str] = []

    def fetch(symbol, start, end):  # type: ignore[no-untyped-def]
        calls.append(symbol)
        return pd.DataFrame()

    with pytest.raises(EmptyDataError, match="no rows"):
        yahoo.extract(yahoo.YahooQuery("NVDA"), fetch, retries=2, backoff_s=0, sleep=lambda s: None)
    assert len(calls) == 3


def test_yahoo_rate_limit_is_retried_with_backoff() -> None:
    class YFRateLimitError(Exception):
        pass

    answers: list[object] = [YFRateLimitError("Too Many Requests"), YFRateLimitError("x"), _bars()]
    sleeps: list[float] = []

    def fetch(symbol, start, end):  # type: ignore[no-untyped-def]
        a = answers.pop(0)
        if isinstance(a, Exception):
            raise a
        return a

    raw = yahoo.extract(yahoo.YahooQuery("NVDA"), fetch, retries=3, backoff_s=1, sleep=sleeps.append)
    assert sleeps == [1, 2]
    bars = yahoo.transform(yahoo.YahooQuery("NVDA"), raw)
    assert list(bars.columns) == ["open", "high", "low", "close", "adj_close", "volume"]
    assert bars.index[0] == pd.Timestamp("2024-01-02") and bars.index.tz is None


def test_one_failing_symbol_never_stops_the_others(db_url: str) -> None:
    settings = make_settings(db_url, universe={"symbols": ["NVDA", "CSCO", "^IXIC"]},
                             market={"retries": 1, "backoff_s": 0})

    def fetch(symbol, start, end):  # type: ignore[no-untyped-def]
        if symbol == "CSCO":
            return pd.DataFrame()
        return _bars()

    report = ingest_yahoo(settings, fetch=fetch)
    assert set(report.counts) == {"NVDA", "^IXIC"} and set(report.errors) == {"CSCO"}
    with session_scope(db_url) as s:
        assert repo.price_counts(s)["NVDA"][0] == 5
        assert repo.last_run(s, "ingest_prices").status == "partial"  # type: ignore[union-attr]
    again = ingest_yahoo(settings, fetch=fetch)
    assert again.total.inserted == 0 and again.total.updated == 0


def test_bad_yahoo_payload_names_the_symbol_and_row() -> None:
    raw = _bars()
    raw.iloc[2, 3] = -4.0
    with pytest.raises(IngestError, match=r"yahoo:NVDA \(line 4, column close\)"):
        yahoo.transform(yahoo.YahooQuery("NVDA"), raw)


@pytest.mark.parametrize("source", ["yahoo", "edgar"])
def test_live_ingest_without_network_fails_fast_with_one_line(source: str, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "BUBBLEWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
           # unresolvable hosts stand in for "no network" on any machine
           "BUBBLEWATCH_SEC__BASE_URL": "https://sec.invalid",
           "BUBBLEWATCH_MARKET__BASE_URL": "https://yahoo.invalid"}
    cmd = [sys.executable, "-m", "bubblewatch", "ingest", "--source", source]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          cwd=REPO_ROOT, env=env, timeout=60, check=False)
    elapsed = time.monotonic() - start
    assert proc.returncode == 1
    assert elapsed < 10
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "cannot reach" in lines[0] and "--from-dir" in lines[0]
    assert "Traceback" not in proc.stderr


def test_edgar_documents_are_reused_for_a_day(sec_server: _Recorder, tmp_path: Path) -> None:
    client = HttpClient("bubblewatch-test ops@example.org", rate=50, retries=0)
    q = edgar.EdgarQuery(1045810, "NVDA", _base(sec_server))
    first = edgar.extract(q, client, tmp_path)
    second = edgar.extract(q, client, tmp_path)
    assert first == second and len(sec_server.requests) == 1
    assert (tmp_path / "CIK0001045810.json").read_bytes() == first
    edgar.extract(q, client, tmp_path, max_age_s=0)  # stale: downloaded again
    assert len(sec_server.requests) == 2
