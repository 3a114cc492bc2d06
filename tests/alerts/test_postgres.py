"""The alert tables, the guarded outbox updates and time-zone-aware instants
behave the same on PostgreSQL (a throw-away server, as in tests/db)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from alerts.channels.base import OutgoingMessage
from alerts.config import parse_rulebook
from alerts.service import deliver_job, evaluate_job
from bubblewatch.core.universe import default_universe
from db import alerts_repo, repo
from db.migrate import upgrade
from db.session import get_engine, session_scope
from tests.alerts.conftest import registered_indicators
from tests.alerts.test_outbox import SimulatedCrash, make_settings
from tests.alerts.test_service import RULES, SYMBOLS
from tests.conftest import load_shared_prices
from tests.db.pg_server import postgres_server

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 8, 24, 18, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_server() as url:
        upgrade(url)
        yield url
        get_engine(url).dispose()


def store_real_indicators(url: str) -> dict[tuple[str, str], float]:
    """Like ``test_service.store_real_indicators``, on PostgreSQL."""
    latest: dict[tuple[str, str], float] = {}
    with session_scope(url) as s:
        for sym in SYMBOLS:
            px = load_shared_prices(sym)["adj_close"]
            series = {("runup", "ret_2y"): px / px.shift(504) - 1.0,
                      ("regime", "drawdown"): px / px.cummax() - 1.0}
            for (name, field), values in series.items():
                values = values.dropna().iloc[-250:]
                repo.store_indicator_result(
                    s, indicator=name, key=sym, params={}, params_hash="h",
                    frame=values.to_frame(field), events=None, meta={},
                    as_of=values.index[-1].date())
                latest[(name, sym)] = float(values.iloc[-1])
    return latest


def _queued(url: str) -> list[dict[str, str]]:
    with session_scope(url) as s:
        return [{"subscriber": d.subscriber, "target": d.target}
                for d in alerts_repo.deliveries(s)]


class Recorder:
    def __init__(self, channel: str, crash_once: bool = False):
        self.channel, self.crash_once, self.keys = channel, crash_once, []  # type: ignore[var-annotated]

    def send(self, message: OutgoingMessage) -> None:
        self.keys.append(message.key)
        if self.crash_once:
            self.crash_once = False
            raise SimulatedCrash


def test_evaluate_and_deliver_on_postgres(pg_url: str) -> None:
    latest = store_real_indicators(pg_url)
    book = parse_rulebook(RULES.replace('slack_webhook_env = "BW_TEST_SLACK_WEBHOOK"\n', ""),
                          "rules.toml", indicators=registered_indicators(),
                          universe=default_universe(), environ={})
    expected = sum(v >= 1.0 for (n, _), v in latest.items() if n == "runup") + sum(
        v <= -0.2 for (n, _), v in latest.items() if n == "regime")
    settings = make_settings(pg_url, 25)
    report = evaluate_job(settings, rulebook=book, now=T0)
    assert len(report.alerts) == expected > 0
    assert evaluate_job(settings, rulebook=book, now=T0 + timedelta(days=1)).alerts == []

    # a first evaluation: one onboarding message per subscriber address (desk and boss)
    messages = len({(d["subscriber"], d["target"]) for d in _queued(pg_url)})
    assert messages == 2
    crashing = Recorder("email", crash_once=True)
    with pytest.raises(SimulatedCrash):
        deliver_job(settings, now=T0, notifiers={"email": crashing})
    email = Recorder("email")
    assert deliver_job(settings, now=T0 + timedelta(seconds=60), notifiers={"email": email}
                       ).count("sent") == messages - 1  # the crashed batch is still claimed
    late = deliver_job(settings, now=T0 + timedelta(minutes=6), notifiers={"email": email})
    assert late.count("sent") == 1
    assert crashing.keys[0] in email.keys  # re-sent with the same idempotency key
    assert len(set(email.keys)) == len(email.keys) == messages
    with session_scope(pg_url) as s:
        assert alerts_repo.delivery_counts(s) == {"sent": report.queued}
        rows = alerts_repo.deliveries(s)
    assert all(d.sent_at is not None and d.sent_at.tzinfo is not None for d in rows)
