"""Live sources against local stand-ins (see :mod:`tests.ingest.replay`): SEC
EDGAR and Nasdaq over HTTP, Yahoo through yfinance itself, and the price job
that falls back from one to the other. Nothing reaches the network."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import trustme
from sqlalchemy import select

from bubblewatch.app.jobs import ingest_edgar, ingest_yahoo
from bubblewatch.core.errors import (
    ConfigError,
    EmptyDataError,
    HttpStatusError,
    IngestError,
    TransientSourceError,
)
from db import repo
from db.models import FundamentalFact, PriceBar
from db.session import session_scope
from ingest import edgar, nasdaq, yahoo
from ingest.http import FileRateLimiter, HttpClient, RateLimiter
from tests.conftest import REPO_ROOT, make_settings
from tests.ingest.replay import (
    HTML_PAGE,
    Answer,
    Chart,
    NasdaqReplay,
    SecReplay,
    YahooReplay,
    closed_port,
    serving,
)

UA = "bubblewatch-test ops@example.org"
NVDA_CIK = 1045810


@pytest.fixture()
def sec_server(shared_data: Path) -> Iterator[SecReplay]:
    with serving(SecReplay(shared_data / "edgar")) as server:
        yield server  # type: ignore[misc]


# --------------------------------------------------------------------------- SEC


def test_edgar_through_http_equals_the_local_file(sec_server: SecReplay, db_url: str,
                                                  shared_data: Path) -> None:
    sec_server.script[:] = [Answer(500), Answer(429, headers={"Retry-After": "0"})]
    settings = make_settings(db_url, sec={"base_url": sec_server.base_url, "user_agent": UA},
                             universe={"symbols": ["NVDA", "CSCO"]})
    client = HttpClient(settings.sec.user_agent, rate=50, retries=3, backoff_s=0.01)
    report = ingest_edgar(settings, client=client, use_cache=False)
    # CSCO's companyfacts is not on the stand-in server: a 404 fails that symbol only
    assert set(report.counts) == {"NVDA"} and set(report.errors) == {"CSCO"}
    assert "HTTP 404" in report.errors["CSCO"]
    paths = [p for p, _ in sec_server.requests]
    assert paths[:3] == ["/api/xbrl/companyfacts/CIK0001045810.json"] * 3
    assert {ua for _, ua in sec_server.requests} == {UA}
    q = edgar.EdgarQuery(NVDA_CIK, "NVDA")
    local = edgar.transform(q, (shared_data / "edgar" / "CIK0001045810.json").read_bytes())
    assert report.counts["NVDA"].inserted == len(local)


REFUSAL = ('SEC EDGAR answers HTTP 403 to clients that do not say who they are: set '
           'BUBBLEWATCH_SEC__USER_AGENT to "Your Name your@email" (or sec.user_agent in '
           "bubblewatch.toml); it is now 'bubblewatch research contact@example.org'")


def test_sec_is_never_called_with_the_placeholder_user_agent(sec_server: SecReplay,
                                                             db_url: str) -> None:
    settings = make_settings(db_url, sec={"base_url": sec_server.base_url})
    with pytest.raises(ConfigError) as info:
        ingest_edgar(settings)
    assert str(info.value) == REFUSAL
    assert sec_server.requests == []


def test_the_cli_refuses_the_placeholder_user_agent_in_one_line(sec_server: SecReplay,
                                                                tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "400",
           "BUBBLEWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
           "BUBBLEWATCH_CACHE_DIR": str(tmp_path / "cache"),
           "BUBBLEWATCH_SEC__BASE_URL": sec_server.base_url}
    proc = subprocess.run([sys.executable, "-m", "bubblewatch", "ingest", "--source", "edgar"],
                          capture_output=True, text=True, cwd=REPO_ROOT, env=env, timeout=120,
                          check=False)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr
    assert lines[0] == f"error: {REFUSAL}"
    assert sec_server.requests == []


@pytest.mark.parametrize(("agent", "ok"), [
    ("bubblewatch research contact@example.org", False),  # the shipped placeholder
    ("bubblewatch research", False),                       # no e-mail
    ("Jane Analyst jane.analyst@university.edu", True),
    (UA, True),
])
def test_which_user_agents_declare_someone(agent: str, ok: bool) -> None:
    if ok:
        edgar.check_user_agent(agent)
    else:
        with pytest.raises(ConfigError, match="BUBBLEWATCH_SEC__USER_AGENT"):
            edgar.check_user_agent(agent)


def test_edgar_documents_are_reused_for_a_day(sec_server: SecReplay, tmp_path: Path) -> None:
    client = HttpClient(UA, rate=50, retries=0)
    q = edgar.EdgarQuery(NVDA_CIK, "NVDA", sec_server.base_url)
    first = edgar.extract(q, client, tmp_path)
    second = edgar.extract(q, client, tmp_path)
    assert first == second and len(sec_server.requests) == 1
    assert (tmp_path / "CIK0001045810.json").read_bytes() == first
    edgar.extract(q, client, tmp_path, max_age_s=0)  # stale: downloaded again
    assert len(sec_server.requests) == 2


def _half(shared_data: Path) -> bytes:
    body = (shared_data / "edgar" / "CIK0001045810.json").read_bytes()
    return body[: len(body) // 2]


@pytest.mark.parametrize("bad", ["empty", "html", "truncated", "error-json"])
def test_edgar_never_caches_nor_reuses_a_bad_body(sec_server: SecReplay, tmp_path: Path,
                                                   shared_data: Path, bad: str) -> None:
    body = {"empty": b"", "html": HTML_PAGE, "truncated": _half(shared_data),
            "error-json": b'{"message": "Service Unavailable"}'}[bad]
    client = HttpClient(UA, rate=50, retries=0)
    q = edgar.EdgarQuery(NVDA_CIK, "NVDA", sec_server.base_url)
    sec_server.script[:] = [Answer(200, body)]
    with pytest.raises(IngestError, match=r"^http://127\.0\.0\.1:\d+/api/xbrl/companyfacts/"):
        edgar.extract(q, client, tmp_path)
    assert list(tmp_path.iterdir()) == []  # nothing cached, no temporary file left

    # the same bad body already in the cache (fresh) is discarded and fetched anew
    cached = tmp_path / "CIK0001045810.json"
    cached.write_bytes(body)
    good = edgar.extract(q, client, tmp_path)
    assert len(sec_server.requests) == 2
    assert good == (shared_data / "edgar" / "CIK0001045810.json").read_bytes()
    assert cached.read_bytes() == good


def test_sec_403_says_how_to_declare_oneself(sec_server: SecReplay, tmp_path: Path) -> None:
    sec_server.script[:] = [Answer(403, HTML_PAGE)]
    q = edgar.EdgarQuery(NVDA_CIK, "NVDA", sec_server.base_url)
    with pytest.raises(HttpStatusError, match="BUBBLEWATCH_SEC__USER_AGENT") as info:
        edgar.extract(q, HttpClient(UA, rate=50, retries=3), tmp_path)
    assert info.value.status == 403 and len(sec_server.requests) == 1  # not retried


def test_a_bad_document_is_one_failed_item_and_nothing_half_written(
        db_url: str, shared_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "edgar"
    folder.mkdir()
    (folder / "CIK0001045810.json").write_bytes(_half(shared_data))  # NVDA's cut short
    (folder / "CIK0001652044.json").symlink_to(shared_data / "edgar" / "CIK0001652044.json")
    with serving(SecReplay(folder)) as server:
        settings = make_settings(db_url, sec={"base_url": server.base_url, "user_agent": UA},
                                 universe={"symbols": ["NVDA", "GOOGL"]})
        report = ingest_edgar(settings, client=HttpClient(UA, rate=50, retries=0))
    assert set(report.errors) == {"NVDA"} and set(report.counts) == {"GOOGL"}
    assert "not valid JSON" in report.errors["NVDA"] and "\n" not in report.errors["NVDA"]
    with session_scope(db_url) as s:
        ciks = set(s.scalars(select(FundamentalFact.cik).distinct()))
        run = repo.last_run(s, "ingest_fundamentals")
        assert run is not None and run.status == "partial"
        assert run.detail["NVDA"]["status"] == "failed" and "not valid JSON" in (run.error or "")
    assert ciks == {1652044}
    cached = settings.resolved_cache_dir / "edgar"
    assert sorted(p.name for p in cached.iterdir()) == ["CIK0001652044.json"]


# --------------------------------------------------------------------------- rate limits


def test_rate_limiter_spaces_requests() -> None:
    slept: list[float] = []
    now = [0.0]
    limiter = RateLimiter(10, clock=lambda: now[0], sleep=slept.append)
    for _ in range(5):
        limiter.wait()
    assert slept == pytest.approx([0.1, 0.2, 0.3, 0.4])


def test_file_rate_limiter_is_one_budget_for_every_limiter_on_the_file(tmp_path: Path) -> None:
    slept: list[float] = []
    path = tmp_path / "ratelimit" / "sec"
    a = FileRateLimiter(path, 10, clock=lambda: 100.0, sleep=slept.append)
    b = FileRateLimiter(path, 10, clock=lambda: 100.0, sleep=slept.append)
    for limiter in (a, b, a, b):
        limiter.wait()
    assert slept == pytest.approx([0.1, 0.2, 0.3])
    path.write_text("1e12\n")  # a clock set back, or a damaged file: start afresh
    assert a.reserve() == 100.0


_RESERVE = textwrap.dedent("""
    import json, sys, threading
    from ingest.http import FileRateLimiter
    limiter = FileRateLimiter(sys.argv[1], 10, clock=lambda: 1000.0)
    slots, lock = [], threading.Lock()
    def take():
        for _ in range(10):
            slot = limiter.reserve()
            with lock:
                slots.append(slot)
    threads = [threading.Thread(target=take) for _ in range(3)]
    for t in threads: t.start()
    for t in threads: t.join()
    print(json.dumps(slots))
""")


def test_file_rate_limiter_shares_one_budget_across_processes_and_threads(tmp_path: Path) -> None:
    # every caller sees the same frozen clock, so the only thing keeping two of them
    # from taking the same slot is the lock on the shared file
    path = tmp_path / "sec"
    procs = [subprocess.Popen([sys.executable, "-c", _RESERVE, str(path)], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, text=True) for _ in range(3)]
    slots = sorted(s for p in procs for s in json.loads(p.communicate(timeout=120)[0]))
    assert all(p.returncode == 0 for p in procs)
    assert slots == pytest.approx([1000.0 + 0.1 * k for k in range(90)], abs=1e-6)


def test_sec_client_uses_the_shared_limit_under_the_cache_folder(tmp_path: Path) -> None:
    settings = make_settings("sqlite://", sec={"user_agent": UA, "max_requests_per_second": 5})
    client = edgar.sec_client(settings.sec, tmp_path)
    try:
        assert isinstance(client.limiter, FileRateLimiter)
        assert client.limiter.path == tmp_path / "ratelimit" / "sec"
        assert client.limiter.interval == pytest.approx(0.2)
    finally:
        client.close()


# --------------------------------------------------------------------------- bad input


class _NoLimit:
    def wait(self) -> None:
        pass


NO_LIMIT = _NoLimit()  # so that the recorded sleeps are the retry waits alone


@pytest.fixture()
def untrusted_tls(tmp_path: Path) -> ssl.SSLContext:
    """A server certificate from a CA the client has never heard of."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(ctx)
    return ctx


def _nasdaq_call(server: NasdaqReplay | None, base_url: str, nvda: pd.DataFrame,
                 client: HttpClient) -> object:
    if server is not None:
        server.bars["NVDA"] = (nvda, False)
    q = nasdaq.NasdaqQuery("NVDA", date(2024, 6, 3), date(2024, 6, 14), base_url=base_url)
    return nasdaq.transform(q, nasdaq.extract(q, client))


def _sec_call(server: SecReplay | None, base_url: str, nvda: pd.DataFrame,
              client: HttpClient) -> object:
    q = edgar.EdgarQuery(NVDA_CIK, "NVDA", base_url)
    return edgar.transform(q, edgar.extract(q, client))


SOURCES: dict[str, tuple[Callable[..., object], Callable[..., object]]] = {
    "nasdaq": (lambda folder, tls=None: NasdaqReplay(tls), _nasdaq_call),
    "sec": (lambda folder, tls=None: SecReplay(folder, tls), _sec_call),
}

# (case, script, error class, message, attempts)
HTTP_FAILURES = [
    ("http-403", [Answer(403, HTML_PAGE)], HttpStatusError, r"HTTP 403", 1),
    ("http-404", [Answer(404, b"<html><title>Not Found</title></html>")], HttpStatusError,
     r"HTTP 404", 1),
    ("http-500", [Answer(500)] * 3, HttpStatusError, r"HTTP 500 \(gave up after 3 attempts\)", 3),
    ("http-503", [Answer(503, b"busy", {"Retry-After": "0.5"})] * 3, HttpStatusError,
     r"HTTP 503: busy \(gave up after 3 attempts\)", 3),
    ("cut-short", [Answer(cut=True)] * 3, TransientSourceError, r"answer cut short", 3),
    ("html-not-json", [Answer(200, HTML_PAGE)], IngestError,
     r"answered an HTML page titled 'Access denied' instead of JSON", 1),
    ("empty-body", [Answer(200, b"")], IngestError, r"empty answer", 1),
    ("json-truncated", [Answer(200, b'{"data": {"symbol": "NVDA", "facts": {"us-gaap": ')],
     IngestError, r"not valid JSON", 1),
]


@pytest.mark.parametrize("source", list(SOURCES))
@pytest.mark.parametrize(("case", "script", "error", "message", "attempts"), HTTP_FAILURES,
                         ids=[c[0] for c in HTTP_FAILURES])
def test_http_sources_fail_one_document_with_one_line(
        source: str, case: str, script: list[Answer], error: type[Exception], message: str,
        attempts: int, shared_data: Path) -> None:
    make_server, call = SOURCES[source]
    nvda = pd.read_csv(shared_data / "prices" / "NVDA.csv", parse_dates=["date"]).set_index("date")
    sleeps: list[float] = []
    with serving(make_server(shared_data / "edgar")) as server:
        server.script[:] = list(script)  # type: ignore[attr-defined]
        client = HttpClient(UA, retries=2, backoff_s=0.25, sleep=sleeps.append, limiter=NO_LIMIT)
        with pytest.raises(error, match=message) as info:
            call(server, server.base_url, nvda, client)  # type: ignore[attr-defined]
        assert len(server.requests) == attempts  # type: ignore[attr-defined]
    text = str(info.value)
    assert "\n" not in text and ("nasdaq:NVDA" in text or "CIK0001045810" in text)
    expected = [0.5 if case == "http-503" else 0.25 * 2**i for i in range(attempts - 1)]
    assert sleeps == expected
    assert not isinstance(info.value, EmptyDataError)


@pytest.mark.parametrize("source", list(SOURCES))
def test_http_sources_retry_a_rate_limit_after_its_retry_after(source: str,
                                                               shared_data: Path) -> None:
    make_server, call = SOURCES[source]
    nvda = pd.read_csv(shared_data / "prices" / "NVDA.csv", parse_dates=["date"]).set_index("date")
    sleeps: list[float] = []
    with serving(make_server(shared_data / "edgar")) as server:
        server.script[:] = [Answer(429, b"slow down", {"Retry-After": "3"})]  # type: ignore[attr-defined]
        client = HttpClient(UA, retries=2, backoff_s=0.25, sleep=sleeps.append, limiter=NO_LIMIT)
        assert len(call(server, server.base_url, nvda, client)) > 0  # type: ignore[arg-type, attr-defined]
    assert sleeps == [3.0]


@pytest.mark.parametrize("source", list(SOURCES))
def test_http_sources_without_network_dns_or_trust_fail_with_one_line(
        source: str, shared_data: Path, untrusted_tls: ssl.SSLContext,
        monkeypatch: pytest.MonkeyPatch) -> None:
    make_server, call = SOURCES[source]
    nvda = pd.read_csv(shared_data / "prices" / "NVDA.csv", parse_dates=["date"]).set_index("date")
    sleeps: list[float] = []
    client = HttpClient(UA, retries=1, backoff_s=0, sleep=sleeps.append, limiter=NO_LIMIT)

    # nothing listens: the connection is refused, tried twice
    with pytest.raises(TransientSourceError, match=r"connection failed.*gave up after 2"):
        call(None, f"http://127.0.0.1:{closed_port()}", nvda, client)
    assert sleeps == [0]

    # the server's certificate is not trusted: fails at once
    with (serving(make_server(shared_data / "edgar", untrusted_tls)) as server,
          pytest.raises(IngestError, match=r"TLS failure talking to 127\.0\.0\.1") as info):
        call(None, server.base_url, nvda, client)  # type: ignore[attr-defined]
    assert "\n" not in str(info.value) and sleeps == [0]

    # the resolver knows no such host (as without a network): fails at once
    real = socket.getaddrinfo

    def resolver(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "source.example":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with pytest.raises(IngestError, match=r"cannot resolve host source\.example") as info:
        call(None, "http://source.example", nvda, client)
    assert "--from-dir" in str(info.value) and sleeps == [0]
    client.close()


@pytest.mark.parametrize("source", ["yahoo", "edgar"])
def test_live_ingest_without_network_fails_fast_with_one_line(source: str, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "BUBBLEWATCH_DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}",
           # unresolvable hosts stand in for "no network" on any machine
           "BUBBLEWATCH_SEC__BASE_URL": "https://sec.invalid",
           "BUBBLEWATCH_SEC__USER_AGENT": UA,
           "BUBBLEWATCH_MARKET__BASE_URL": "https://yahoo.invalid"}
    cmd = [sys.executable, "-m", "bubblewatch", "ingest", "--source", source]
    proc = subprocess.run(cmd, capture_output=True, text=True,
                          cwd=REPO_ROOT, env=env, timeout=120, check=False)
    assert proc.returncode == 1
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "cannot reach" in lines[0] and "--from-dir" in lines[0]
    assert "Traceback" not in proc.stderr


# --------------------------------------------------------------------------- prices job


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
    answers: list[object] = [HttpStatusError("HTTP 429", status=429),
                             HttpStatusError("HTTP 429", status=429), _bars()]
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
                             market={"retries": 1, "backoff_s": 0, "fallback": "none"})

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


def _prices(shared_data: Path, name: str) -> pd.DataFrame:
    bars = pd.read_csv(shared_data / "prices" / f"{name}.csv", parse_dates=["date"])
    return bars.set_index("date").loc["2024-06-03":"2024-06-14"]


def test_the_fallback_serves_what_yahoo_fails_on_and_the_run_log_says_why(
        db_url: str, shared_data: Path, tmp_path: Path) -> None:
    nvda, csco, ixic = (_prices(shared_data, s) for s in ("NVDA", "CSCO", "IXIC"))
    with serving(YahooReplay(tmp_path)) as ys, serving(NasdaqReplay()) as ns:
        ys.charts["NVDA"] = Chart(nvda)                                   # Yahoo serves NVDA
        ys.charts["CSCO"] = Chart(csco)
        ys.script["CSCO"] = [Answer(503, b"<html><title>503</title></html>")] * 8  # ...not CSCO
        ns.bars.update({"CSCO": (csco, False), "COMP": (ixic, True)})     # ^IXIC: only Nasdaq
        settings = make_settings(
            db_url, universe={"symbols": ["NVDA", "CSCO", "^IXIC", "^GSPC"]},
            market={"retries": 1, "backoff_s": 0, "start": "2024-06-03",
                    "fallback_base_url": ns.base_url})
        session = ys.session()
        fetch = yahoo.yfinance_fetcher(session=session, timeout_s=5,
                                       cache_dir=settings.resolved_cache_dir / "yfinance")
        report = ingest_yahoo(settings, fetch=fetch)
        nasdaq_paths = [p for p, _ in ns.requests]
        nasdaq_agents = {h.get("User-Agent") for _, h in ns.requests}

    assert report.sources == {"NVDA": "yahoo", "CSCO": "nasdaq", "^IXIC": "nasdaq"}, report.errors
    # unknown to both: one line naming both reasons; the others went on
    assert set(report.errors) == {"^GSPC"}
    err = report.errors["^GSPC"]
    assert "\n" not in err and err.startswith("yahoo:^GSPC: ")
    assert "; then nasdaq:^GSPC: " in err and "Symbol not exists." in err
    assert any("/api/quote/COMP/historical?assetclass=index&fromdate=2024-06-03" in p
               for p in nasdaq_paths)
    assert not any("/api/quote/NVDA/" in p for p in nasdaq_paths)  # Yahoo served it
    assert all(a and a.startswith("Mozilla/5.0") for a in nasdaq_agents)

    with session_scope(db_url) as s:
        run = repo.last_run(s, "ingest_prices")
        assert run is not None
        status, detail, error = run.status, dict(run.detail), run.error or ""
        rows = pd.DataFrame([
            {"symbol": b.symbol, "date": pd.Timestamp(b.date), "close": b.close,
             "adj_close": b.adj_close, "volume": b.volume, "source": b.source}
            for b in s.scalars(select(PriceBar))])
    assert status == "partial"
    assert detail["NVDA"]["source"] == "yahoo" and "yahoo_error" not in detail["NVDA"]
    assert detail["CSCO"]["source"] == "nasdaq"
    assert "HTTP 503" in detail["CSCO"]["yahoo_error"]
    assert "Yahoo" in detail["^IXIC"]["yahoo_error"]  # not known to Yahoo
    assert detail["^GSPC"]["status"] == "failed" and "^GSPC" in error

    by = {sym: g.set_index("date").sort_index() for sym, g in rows.groupby("symbol")}
    assert set(by) == {"NVDA", "CSCO", "^IXIC"}  # nothing at all for ^GSPC
    assert set(by["NVDA"]["source"]) == {"yahoo"}
    assert list(by["NVDA"].index) == list(nvda.index)
    assert by["NVDA"]["adj_close"].tolist() == nvda["adj_close"].tolist()
    assert set(by["CSCO"]["source"]) == {"nasdaq"}
    assert (by["CSCO"]["adj_close"] == by["CSCO"]["close"]).all()  # Nasdaq has no adjusted close
    assert (by["CSCO"]["close"] - csco["close"]).abs().max() <= 0.005  # cents, as Nasdaq prints
    assert by["^IXIC"]["volume"].isna().all()  # Nasdaq gives no index volume
    assert (by["^IXIC"]["close"] - ixic["close"]).abs().max() <= 0.005
