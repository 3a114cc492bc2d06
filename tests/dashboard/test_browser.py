"""End to end in a real browser: start the dashboard server on the seeded
database, drive Debian Chromium through playwright, wait until the app has
finished rendering, screenshot Overview and AI vs dot-com, and check that the
key text and charts are visible.

Screenshots and page load times are written to the test's tmp dir and copied
to ``/tmp/bubblewatch-screenshots/`` (``BUBBLEWATCH_SCREENSHOT_DIR``).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path

import pytest

from bubblewatch.core.settings import Settings
from dashboard.server import start_dashboard, stop_dashboard, wait_until_ready

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
SCREENSHOT_DIR = Path(os.environ.get("BUBBLEWATCH_SCREENSHOT_DIR", "/tmp/bubblewatch-screenshots"))

#: True once the script has finished: no running indicator, no skeleton or stale
#: element left, and at least ``n`` plotly charts drawn.
RENDERED = """(n) => {
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (document.querySelector('[data-testid="stSkeleton"], [data-stale="true"]')) return false;
  return document.querySelectorAll('.js-plotly-plot .main-svg').length >= n;
}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_rendered(page, n_charts: int) -> None:  # type: ignore[no-untyped-def]
    page.wait_for_selector("h1", timeout=90_000)
    # twice, a moment apart: a rerun may start right after the first quiet moment
    for _ in range(2):
        page.wait_for_function(RENDERED, arg=n_charts, timeout=90_000, polling=200)
        page.wait_for_timeout(400)


@pytest.mark.browser
@pytest.mark.slow
def test_overview_and_analog_in_chromium(dashboard_db, tmp_path):
    if not CHROMIUM.exists():
        pytest.fail("Debian Chromium is required at /usr/bin/chromium for the browser test: "
                    "run `apt-get install -y chromium` (the CI script does this)")
    from playwright.sync_api import expect, sync_playwright

    url, facts = dashboard_db
    port = _free_port()
    server = start_dashboard(Settings(database_url=url), port=port, quiet=True)
    times: dict[str, float] = {}
    shots: dict[str, Path] = {}
    try:
        times["server_ready_s"] = wait_until_ready(server, "127.0.0.1", port, timeout=120)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1600})

            t0 = time.monotonic()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            _wait_rendered(page, n_charts=3)
            times["overview_cold_s"] = time.monotonic() - t0
            main = page.locator("[data-testid='stMain']")
            ai, peak = round(facts["ai_score"]), round(facts["dotcom_peak_score"])
            expect(main.get_by_text(f"Like for like: AI {ai} vs dot-com peak {peak}")).to_be_visible()
            expect(main.get_by_text("Score components")).to_be_visible()
            expect(main.get_by_text("Data freshness")).to_be_visible()
            expect(main.get_by_text("NVDA: explosive episode started")).to_be_visible()
            assert main.locator(".js-plotly-plot").count() >= 3
            shots["overview"] = tmp_path / "overview.png"
            page.screenshot(path=str(shots["overview"]), full_page=True)

            t0 = time.monotonic()
            page.reload(wait_until="domcontentloaded")
            _wait_rendered(page, n_charts=3)
            times["overview_warm_s"] = time.monotonic() - t0

            t0 = time.monotonic()
            page.get_by_role("link", name="AI vs dot-com").click()
            page.wait_for_url("**/analog*")
            _wait_rendered(page, n_charts=2)
            times["analog_s"] = time.monotonic() - t0
            expect(main.get_by_text("AI vs dot-com: is Nvidia the new Cisco?")).to_be_visible()
            best = f"{facts['best_nvda_csco']:%Y-%m-%d}"
            expect(main.get_by_text(best, exact=True)).to_be_visible()
            expect(main.get_by_text("NVDA vs CSCO, aligned at today")).to_be_visible()
            assert main.locator(".js-plotly-plot").count() >= 2
            # the shareable view state is in the URL
            assert "pair=nvda_csco" in page.url and "anchor=best" in page.url
            shots["analog"] = tmp_path / "ai-vs-dotcom.png"
            page.screenshot(path=str(shots["analog"]), full_page=True)
            browser.close()
    finally:
        code = stop_dashboard(server)
    assert code is not None  # the server process is gone
    for p in shots.values():
        assert p.stat().st_size > 50_000  # a real rendering, not a blank page
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    for p in shots.values():
        shutil.copy(p, SCREENSHOT_DIR / p.name)
    (SCREENSHOT_DIR / "load-times.json").write_text(json.dumps(
        {k: round(v, 2) for k, v in times.items()}, indent=1))
    print("page load times (s):", {k: round(v, 2) for k, v in times.items()})
