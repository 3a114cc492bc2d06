"""What the dashboard tests expect, read from the results the real indicators
stored in the computed test database (``computed_db_url``: a real
``bubblewatch compute`` over the shared prices and filings), and alert rows
for the Alerts page.

Nothing here computes an indicator: expected values are read back through
the same repository functions and typed metadata any consumer uses.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from db import repo
from db.session import session_scope
from indicators import registry

#: A Slack webhook planted in the alert test data to prove the dashboard masks it.
PLANTED_WEBHOOK = "https://hooks.slack.com/services/T00000000/B00000000/plantedSecretXYZ"


def _meta(s, indicator: str, key: str):  # type: ignore[no-untyped-def]
    (run,) = repo.latest_runs(s, indicator, key)
    return registry.get(indicator).read_meta(run.meta)


def expected_facts(url: str) -> dict[str, Any]:
    """Values the pages must show, read from the stored results."""
    facts: dict[str, Any] = {}
    with session_scope(url) as s:
        ai = repo.indicator_wide(s, "composite", "ai")["score"].dropna()
        dc = repo.indicator_wide(s, "composite", "dotcom")["score"].dropna()
        facts["ai_score"] = float(ai.iloc[-1])
        facts["dotcom_peak_score"] = float(dc[:"2000-03-10"].iloc[-1])
        cmeta = _meta(s, "composite", "ai")
        facts["composite_missing"] = dict(cmeta.missing_components)
        facts["composite_headline"] = list(cmeta.readings["headline"])
        facts["composite_components"] = list(cmeta.rules)
        facts["ai_only_score"] = cmeta.latest.ai_only
        facts["ai_stress"] = cmeta.latest.stress
        facts["ai_band"] = cmeta.latest.band
        facts["ai_score_band"] = (cmeta.latest.score_p05, cmeta.latest.score_p95)
        for pair in ("nvda_csco", "ai_dotcom_basket"):
            best = _meta(s, "analog", pair).best_match
            facts[f"best_{pair}"] = best.dotcom_date
            facts[f"fwd_{pair}"] = best.forward_returns
        for sym in ("NVDA", "CSCO"):
            facts[f"psy_episodes_{sym}"] = len(repo.indicator_events(s, "psy", sym))
            facts[f"psy_last_{sym}"] = repo.indicator_wide(s, "psy", sym)["bsadf"].dropna(
            ).index[-1]
        tc = repo.indicator_wide(s, "lppls", "NVDA")
        facts["lppls_tc_dates"] = int(tc["pos_tc_median_days"].notna().sum()) if (
            "pos_tc_median_days" in tc) else 0
        total = repo.indicator_wide(s, "capex", "hyperscalers")
        facts["hyperscaler_capex_ttm_bn"] = float(total["capex_ttm"].dropna().iloc[-1] / 1e3)
        hmeta = _meta(s, "capex", "hyperscalers")
        facts["hyperscaler_members_with_data"] = hmeta.members_with_data
        facts["hyperscaler_coverage_label"] = hmeta.coverage_label
        facts["hyperscaler_reference_total_bn"] = hmeta.reference_total.value / 1e3
        facts["ai_revenue_label"] = _meta(s, "revenue_gap", "NVDA").ai_revenue_label
        tel = repo.indicator_wide(s, "capex", "telecom")
        facts["telecom_us_equipment_peak_bn"] = float(tel["us_equipment_spending"].max() / 1e3)
        facts["csco_peak_pe"] = _meta(s, "valuation", "NVDA").csco_peak_pe
    return facts


def store_alerts(url: str) -> None:
    """One active alert, one resolved one, and deliveries (one failed with an
    error text that leaks a webhook URL, which the dashboard must mask)."""
    from db.alerts_models import AlertDelivery, AlertEvent, AlertState

    now = datetime.now(UTC)
    with session_scope(url) as s:
        e1 = AlertEvent(dedupe_key="t1", rule_id="nvda_psy_start", key="NVDA", indicator="psy",
                        field="bsadf", rule_type="episode_start", severity="warning",
                        as_of=date(2026, 8, 21), value=2.4, threshold=1.5, value_text="2.4",
                        threshold_text="1.5", condition="ongoing", previous="none",
                        title="NVIDIA (NVDA): explosive rise under way since 2026-05-22",
                        explanation="Explosiveness (PSY) finds an explosive rise under way since "
                                    "2026-05-22 for NVIDIA (NVDA); Backward sup ADF (BSADF) was "
                                    "2.40 against its BSADF critical value, 95% (1.50).",
                        link="https://bubblewatch.example.org/explosiveness?symbol=NVDA")
        e2 = AlertEvent(dedupe_key="t2", rule_id="composite_high", key="ai", indicator="composite",
                        field="score", rule_type="above", severity="critical",
                        as_of=date(2026, 7, 1), value=81.0, threshold=80.0, value_text="81",
                        threshold_text="80", condition="on", previous="off",
                        title="AI cycle: Bubble-risk score 81 / 100, at or above 80 / 100",
                        explanation="Bubble-risk score of AI cycle was 81 / 100 on 2026-07-01, "
                                    "at or above 80 / 100.", link="")
        s.add_all([e1, e2])
        s.flush()
        s.add_all([
            AlertState(rule_id="nvda_psy_start", key="NVDA", rule_hash="x", condition="ongoing",
                       as_of=date(2026, 8, 21), value=2.4),
            AlertState(rule_id="composite_high", key="ai", rule_hash="x", condition="off",
                       as_of=date(2026, 8, 21), value=70.0),
            AlertDelivery(delivery_key="d1", event_id=e1.id, subscriber="analyst",
                          channel="email", target="analyst@example.org", status="sent",
                          attempts=1, next_attempt_at=now, sent_at=now),
            AlertDelivery(delivery_key="d2", event_id=e1.id, subscriber="desk", channel="slack",
                          target="DESK_SLACK_WEBHOOK", status="failed", attempts=5,
                          next_attempt_at=now + timedelta(hours=1),
                          last_error=f"HTTP 404 from {PLANTED_WEBHOOK}"),
        ])
