"""End to end on real prices from ../shared/data: indicator values stored,
``bubblewatch alerts check`` + ``send`` fire to both local receivers, a second
run sends nothing new."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from bubblewatch.app.cli.alerts import register
from bubblewatch.core.settings import get_settings
from db import alerts_repo, repo
from db.session import session_scope
from indicators.registry import params_hash
from tests.alerts.conftest import SlackReceiver, SmtpServer
from tests.conftest import load_shared_prices

SYMBOLS = ("NVDA", "CSCO", "AVGO")
SLACK_VAR = "BW_TEST_SLACK_WEBHOOK"
RULES = f"""\
[[rules]]
id = "runup-doubling"
indicator = "runup"
key = "*"
type = "above"
field = "ret_2y"
threshold = 1.0
hysteresis = 0.2
severity = "warning"
format = ".0%"
description = "Trailing 2-year return of 100% or more (Greenwood, Shleifer & You 2019)."

[[rules]]
id = "deep-drawdown"
indicator = "regime"
key = ["nvda", "csco", "avgo"]
type = "below"
field = "drawdown"
threshold = -0.2
severity = "critical"
format = ".1%"

[[rules]]
id = "broken"
indicator = "runup"
key = "NVDA"
type = "above"
field = "ret_2y"
threshold = "lots"

[[subscribers]]
name = "desk"
email = "desk@example.org"
slack_webhook_env = "{SLACK_VAR}"

[[subscribers]]
name = "boss"
email = "boss@example.org"
severities = ["critical"]
"""


def store_real_indicators(url: str) -> dict[tuple[str, str], float]:
    """Store a 2-year return and a drawdown series per symbol (last year of
    them), computed from the real prices; returns the latest values."""
    latest: dict[tuple[str, str], float] = {}
    with session_scope(url) as s:
        for sym in SYMBOLS:
            px = load_shared_prices(sym)["adj_close"]
            frames = {
                "runup": pd.DataFrame({"ret_2y": px / px.shift(504) - 1.0}),
                "regime": pd.DataFrame({"drawdown": px / px.cummax() - 1.0}),
            }
            for name, frame in frames.items():
                frame = frame.dropna().iloc[-250:]
                params = {"source": "test"}
                repo.store_indicator_result(
                    s, indicator=name, key=sym, params=params, params_hash=params_hash(params),
                    frame=frame, events=None, meta={}, as_of=frame.index[-1].date(),
                )
                latest[(name, sym)] = float(frame.iloc[-1, 0])
    return latest


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as wide as on a real terminal, so cells do not wrap in assertions."""
    from bubblewatch.core import console as con

    for c in (con.console, con.err_console):
        monkeypatch.setattr(c, "_width", 200)


@pytest.fixture
def cli_env(alerts_db: str, tmp_path: Path, smtp_server: SmtpServer, slack_server: SlackReceiver,
            monkeypatch: pytest.MonkeyPatch, indicators_registered) -> Path:  # type: ignore[no-untyped-def]
    rules = tmp_path / "alerts.toml"
    rules.write_text(RULES)
    for k, v in {
        "BUBBLEWATCH_DATABASE_URL": alerts_db,
        "BUBBLEWATCH_ALERTS__RULES_FILE": str(rules),
        "BUBBLEWATCH_SMTP__HOST": smtp_server.host,
        "BUBBLEWATCH_SMTP__PORT": str(smtp_server.port),
        SLACK_VAR: slack_server.url,
    }.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    yield rules
    get_settings.cache_clear()


def cli(*args: str):  # type: ignore[no-untyped-def]
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app)
    return CliRunner().invoke(app, list(args))


def test_real_data_fires_to_both_receivers_once(
        cli_env: Path, alerts_db: str, smtp_server: SmtpServer, slack_server: SlackReceiver) -> None:
    latest = store_real_indicators(alerts_db)
    expected = sorted(
        [("runup-doubling", s) for s in SYMBOLS if latest[("runup", s)] >= 1.0]
        + [("deep-drawdown", s) for s in SYMBOLS if latest[("regime", s)] <= -0.2]
    )
    critical = [k for r, k in expected if r == "deep-drawdown"]
    assert expected and critical, "the real data no longer crosses the test thresholds"

    dry = cli("alerts", "check", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"{len(expected)} alert(s) would fire" in dry.output
    with session_scope(alerts_db) as s:
        assert alerts_repo.alert_states(s) == [] and alerts_repo.delivery_counts(s) == {}

    first = cli("alerts", "check")
    assert first.exit_code == 0, first.output
    n_deliveries = 2 * len(expected) + len(critical)  # desk: email + Slack; boss: critical
    assert f"{len(expected)} alert(s) fired; {n_deliveries} deliveries queued" in first.output
    # the broken rule is reported with file, line and field, the others ran
    assert re.search(rf"{re.escape(str(cli_env))}:29: \[\[rules\]\] #3 \(rule\s+'broken'\)"
                     r"\s+threshold:", first.output)
    with session_scope(alerts_db) as s:
        fired = sorted((e.rule_id, e.key) for e, _ in alerts_repo.recent_events(s, 50))
        run = repo.last_run(s, "alerts_evaluate")
    assert fired == expected
    assert run is not None and run.status == "partial" and "threshold" in (run.error or "")

    sent = cli("alerts", "send")
    assert sent.exit_code == 0, sent.output
    # the subscribers' first evaluation: one onboarding digest of the current state per
    # channel (desk: e-mail and Slack; boss: e-mail), not one message per condition
    assert "3 sent, 0 to retry, 0 failed" in sent.output
    to = sorted(m["To"] for m in smtp_server.inbox.messages.values())
    assert to == ["boss@example.org", "desk@example.org"]
    assert len(slack_server.delivered) == 1
    mails = {m["To"]: m for m in smtp_server.inbox.messages.values()}
    desk = mails["desk@example.org"]
    subject = str(desk["Subject"]).strip()  # a long subject is folded onto its own line
    assert subject.startswith(f"[bubblewatch] Where things stand: {len(expected)} conditions")
    body = desk.get_body(("plain",)).get_content()
    for _rule, key in expected:  # each condition, its company named in words
        assert f"({key}):" in body
    assert "Chart:" not in body  # no public address configured: no (localhost) links
    boss = mails["boss@example.org"].get_body(("plain",)).get_content()
    assert all(f"({key}):" in boss for key in critical)

    # second run on the same data: nothing new fires, nothing is sent
    again = cli("alerts", "check")
    assert "0 alert(s) fired; 0 deliveries queued" in again.output
    again_sent = cli("alerts", "send")
    assert "0 sent, 0 to retry, 0 failed" in again_sent.output
    assert len(smtp_server.inbox.receipts) == 2
    assert len(slack_server.requests) == 1

    hist = cli("alerts", "history", "--limit", "50")
    assert hist.exit_code == 0 and hist.output.count("sent") >= len(expected)


def test_list_refuses_a_broken_file_and_test_sends(
        cli_env: Path, smtp_server: SmtpServer, slack_server: SlackReceiver) -> None:
    listed = cli("alerts", "list")
    assert listed.exit_code == 1
    assert "runup-doubling" in listed.output and "1 problem(s)" in listed.output
    assert slack_server.url not in listed.output  # the secret never shows

    ok = cli("alerts", "test", "--channel", "slack", "--to", SLACK_VAR)
    assert ok.exit_code == 0, ok.output
    ((_, key, _, payload),) = slack_server.requests
    assert "Test alert" in str(payload["blocks"]) and key and key.startswith("test-")
    mail = cli("alerts", "test", "--channel", "email", "--to", "me@example.org")
    assert mail.exit_code == 0, mail.output
    (msg,) = smtp_server.inbox.receipts
    assert msg["To"] == "me@example.org"

    refused = cli("alerts", "test", "--channel", "slack", "--to", slack_server.url)
    assert refused.exit_code == 1 and "NAME of the environment variable" in refused.output
    assert len(slack_server.requests) == 1


def test_list_shows_the_default_rules_when_no_file_is_configured(
        indicators_registered, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("BUBBLEWATCH_ALERTS__RULES_FILE", raising=False)
    get_settings.cache_clear()
    try:
        listed = cli("alerts", "list")
    finally:
        get_settings.cache_clear()
    assert listed.exit_code == 0, listed.output
    assert "<default rules>" in listed.output and "no subscribers" in listed.output
    for needle in ("composite-ai-band", "episode starts", "episode ends",
                   "band change at 20.0 | 40.0 | 60.0 | 80.0", "percentile above 95", ">= 30%"):
        assert needle in listed.output


def test_an_unreadable_rules_file_is_a_failed_run(alerts_db: str, tmp_path: Path) -> None:
    from alerts.service import evaluate_job
    from bubblewatch.core.errors import ConfigError
    from bubblewatch.core.settings import AlertSettings, Settings

    bad = tmp_path / "alerts.toml"
    bad.write_text("[[rules]\nid = 1\n")
    settings = Settings(database_url=alerts_db, alerts=AlertSettings(rules_file=bad))
    with pytest.raises(ConfigError, match="not valid TOML"):
        evaluate_job(settings)
    with session_scope(alerts_db) as s:
        run = repo.last_run(s, "alerts_evaluate")
    assert run is not None and run.status == "failed" and "not valid TOML" in (run.error or "")
