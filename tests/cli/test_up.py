"""``bubblewatch up`` as a new user runs it: a real process on an empty
database fills it from a folder (init, prices, fundamentals, compute, alerts),
prints what it did, the next run of each job with its time zone, and the
dashboard address only once the dashboard answers; the Overview then shows a
composite score in Chromium. Stopped with SIGTERM and started again at once
with no network, it says so in one line per source and serves what it has.

The folder is a few symbols of ../shared/data (their last three years) copied
into the test's temporary folder; nothing reaches the network (the live
sources point at ``.invalid`` hosts, which never resolve).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.cli.test_lifecycle import dashboard_answers, free_port
from tests.conftest import SHARED_DATA
from tests.dashboard.test_browser import CHROMIUM, CHROMIUM_ARGS, SCREENSHOT_DIR, _wait_rendered

#: The universe of the test: an AI name with SEC facts, an AI peer, the dot-com
#: bellwether and the two indices (enough for a composite score).
SYMBOLS = ("NVDA", "AMD", "CSCO", "^GSPC", "^IXIC")
SINCE = "2023-06-01"
#: The dot-com bellwether keeps its history from here, so the composite can read the
#: dot-com peak beside today (the headline compares like with like).
DOTCOM_SINCE = {"CSCO": "1996-01-01"}
#: A process start, a backfill and Streamlit on a busy two-core machine; never asserted on.
LIMIT_S = 600.0
OFFLINE = {"BUBBLEWATCH_MARKET__BASE_URL": "https://yahoo.invalid",
           "BUBBLEWATCH_MARKET__FALLBACK_BASE_URL": "https://nasdaq.invalid",
           "BUBBLEWATCH_SEC__BASE_URL": "https://sec.invalid",
           "BUBBLEWATCH_SEC__USER_AGENT": "bubblewatch tests tests@example.org"}


class Up:
    """A running ``bubblewatch up`` whose output lines are collected as they come."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path):
        self.proc = subprocess.Popen([sys.executable, "-m", "bubblewatch", "up", *args],
                                     cwd=cwd, env=env, text=True, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.out: list[str] = []
        self.err: list[str] = []
        self.answering_when_printed: bool | None = None
        self.threads = [threading.Thread(target=self._read, args=(self.proc.stdout, self.out),
                                         daemon=True),
                        threading.Thread(target=self._read, args=(self.proc.stderr, self.err),
                                         daemon=True)]
        for t in self.threads:
            t.start()

    def _read(self, stream, into: list[str]) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            if into is self.out and line.startswith("dashboard on http"):
                port = int(re.search(r":(\d+) ", line).group(1))  # type: ignore[union-attr]
                self.answering_when_printed = dashboard_answers(port)
            into.append(line.rstrip("\n"))

    def wait_for_line(self, prefix: str) -> str:
        end = time.monotonic() + LIMIT_S
        while time.monotonic() < end:
            hit = next((line for line in self.out if line.startswith(prefix)), None)
            if hit is not None:
                return hit
            if self.proc.poll() is not None:
                time.sleep(0.5)  # let the readers drain
                raise AssertionError(f"up exited ({self.proc.returncode}) before {prefix!r}:\n"
                                     + "\n".join(self.out + self.err))
            time.sleep(0.2)
        raise AssertionError(f"no {prefix!r} after {LIMIT_S:.0f} s:\n" + "\n".join(self.out))

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=120)
        for t in self.threads:
            t.join(timeout=10)
        return code


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A user's folder: the symbols' prices since :data:`SINCE` (Cisco's since 1996),
    NVIDIA's companyfacts."""
    root = tmp_path / "mydata"
    (root / "prices").mkdir(parents=True)
    (root / "edgar").mkdir()
    for sym in SYMBOLS:
        stem = sym.lstrip("^")
        head, *rows = (SHARED_DATA / "prices" / f"{stem}.csv").read_text().splitlines()
        (root / "prices" / f"{stem}.csv").write_text(
            "\n".join([head, *(r for r in rows if r[:10] >= DOTCOM_SINCE.get(sym, SINCE))])
            + "\n")
    shutil.copy(SHARED_DATA / "edgar" / "CIK0001045810.json", root / "edgar")
    return root


def composite_score(db: Path) -> float:
    from db import repo
    from db.session import get_engine, session_scope

    url = f"sqlite:///{db}"
    with session_scope(url) as s:
        score = float(repo.indicator_wide(s, "composite", "ai")["score"].dropna().iloc[-1])
    get_engine(url).dispose()
    return score


def check_overview_in_chromium(port: int, score: float, shot: Path) -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian Chromium is required at /usr/bin/chromium for this test: run "
                    "`apt-get install -y chromium` (the CI script does this)")
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1600})
        page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
        _wait_rendered(page, n_charts=2)
        main = page.locator("[data-testid='stMain']")
        expect(main.get_by_text("Data freshness")).to_be_visible()
        gauge = main.locator(".js-plotly-plot .indicatorlayer")
        assert gauge.count() >= 1, "no score gauge on the Overview"
        assert f"{score:.0f}" in (gauge.first.text_content() or "")  # the stored score, drawn
        sidebar = page.locator("[data-testid='stSidebar']")
        expect(sidebar.get_by_text("Data freshness at")).to_be_visible()
        page.screenshot(path=str(shot), full_page=True)
        browser.close()


@pytest.mark.slow
@pytest.mark.browser
def test_up_from_dir_fills_an_empty_database_then_restarts_offline(
        folder: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "home"
    config = tmp_path / "bubblewatch.toml"
    config.write_text("[universe]\nsymbols = [" + ", ".join(f'"{s}"' for s in SYMBOLS) + "]\n")
    env = {**os.environ, "BUBBLEWATCH_DATA_DIR": str(data_dir),
           "BUBBLEWATCH_CONFIG": str(config), "COLUMNS": "200"}
    env.pop("BUBBLEWATCH_DATABASE_URL", None)
    port = free_port()

    # ---- first start: an empty database, filled from the folder
    up = Up(["--from-dir", str(folder), "--port", str(port)], {**env, **OFFLINE}, tmp_path)
    try:
        url_line = up.wait_for_line("dashboard on http")
        score = composite_score(data_dir / "bubblewatch.sqlite")
        shot = tmp_path / "up-overview.png"
        check_overview_in_chromium(port, score, shot)
    finally:
        code = up.stop()
    out, err = "\n".join(up.out), "\n".join(up.err)
    assert code == 0, out + err
    assert "Traceback" not in err and "lease released" in err
    # what it did, step by step, in order
    steps = ["backfill: loading ", "[1/4] init:", "      ok init: 5 instruments, 311 reference",
             "[2/4] prices: loading price files and companyfacts from",
             "      ok prices: 5 price files loaded", "      ok fundamentals: 1 companyfacts",
             "[3/4] compute: computing every indicator", "[4/4] alerts: evaluating",
             "      ok alerts: ", "backfill ", "scheduler: next runs (America/New_York;",
             "dashboard on http"]
    at = [next(i for i, line in enumerate(up.out) if line.startswith(s)) for s in steps]
    assert at == sorted(at), up.out
    compute = next(line for line in up.out if "compute: " in line and "results" in line)
    assert re.search(r"(ok|partial) compute: \d+ results", compute)
    # the next run of each job, in the scheduler's zone and in UTC
    runs = [line for line in up.out if re.match(r"  (daily|fundamentals|deliver) ", line)]
    assert len(runs) == 3
    for line in runs:
        assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d E[SD]T \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$",
                         line), line
    # the address comes last, once the dashboard answered
    assert up.out[-1] == url_line and f"http://127.0.0.1:{port}" in url_line
    assert up.answering_when_printed is True
    # the folder's prices end 2026-08-21: served, and said to be stale in trading sessions
    assert any(line.startswith("not fresh prices (XNYS) stale: newest 2026-08-21")
               for line in up.out)
    assert shot.stat().st_size > 50_000
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, SCREENSHOT_DIR / shot.name)

    # ---- restarted at once, with no network: one line per source, then it serves
    again = Up(["--port", str(port)], {**env, **OFFLINE}, tmp_path)
    try:
        again.wait_for_line("dashboard on http")
    finally:
        code = again.stop()
    out = "\n".join(again.out)
    assert code == 0, out + "\n".join(again.err)
    assert "backfill: prices (XNYS) end 2026-08-21" in out
    failed = [line.strip() for line in again.out if line.strip().startswith("failed ")]
    assert [f.split(":")[0] for f in failed] == ["failed prices", "failed fundamentals"]
    assert "cannot reach Yahoo Finance (yahoo.invalid" in failed[0]
    assert "[4/5] skipped compute: the indicators reach the newest price" in out
    assert "serving what the database has (newest price 2026-08-21)" in out
    assert "prices (XNYS) failed" in out  # the freshness table names the failed refresh
    assert again.answering_when_printed is True
