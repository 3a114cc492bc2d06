"""Every page speaks the reader's language: no machine key (``a.b`` names,
snake_case field names, ``None``, ``nan``, inline code that is not a command)
anywhere a reader looks, on every page and its main views, on the real
computed database; and no page raises."""

from __future__ import annotations

import pytest

from indicators.vocabulary import raw_keys
from tests.dashboard.conftest import visible_text

#: (page, query parameters) of every page and the views the issue was found on.
VIEWS = [
    ("overview", {}),
    ("analog", {}),
    ("analog", {"anchor": "event"}),
    ("analog", {"pair": "ai_dotcom_basket", "anchor": "peak"}),
    ("explosiveness", {"symbol": "NVDA"}),
    ("explosiveness", {"symbol": "CSCO"}),
    ("lppls", {}),
    ("capex", {}),
    ("valuation", {"symbol": "NVDA"}),
    ("valuation", {"symbol": "AMD", "eq_symbol": "AMD"}),
    ("alerts", {}),
    ("export", {}),
    ("shocks", {}),
    ("scanner", {}),
    ("track_record", {}),
    ("export", {"dataset": "valuation", "key": "AMD"}),
    ("export", {"dataset": "composite", "key": "ai"}),
    ("export", {"dataset": "prices", "key": "CSCO"}),
    ("export", {"dataset": "reference figures"}),
]


@pytest.mark.parametrize(("page", "query"), VIEWS,
                         ids=[f"{p}-{'-'.join(q.values()) or 'default'}" for p, q in VIEWS])
def test_no_machine_key_reaches_the_reader(app, page, query):
    at = app(page, **query)
    found = {where: sorted({hit for text in texts for hit in raw_keys(text)})
             for where, texts in visible_text(at).items()}
    found = {k: v for k, v in found.items() if v}
    assert not found, f"{page} {query}: {found}"


def test_the_check_finds_what_the_issue_found():
    """The scanner itself: each key the issue quotes is caught, plain words pass."""
    for text in ("composite.score 81", "runup.ret_2y", "dso_yoy = -0.32", "rule_id", "None",
                 "nan", "chatgpt ↔ netscape_ipo", "No `psy` results", "cv95 is 1.2"):
        assert raw_keys(text), text
    for text in ("Run `bubblewatch compute valuation --symbols AMD` to fill this.",
                 "NVIDIA (NVDA) P/E 45.2× on 2026-08-21", "e.g. the U.S. carriers",
                 "https://www.sec.gov/cgi-bin/browse_edgar?action=getcompany",
                 "Set `BUBBLEWATCH_PUBLIC_URL`", "S&P 500, 90 % critical value"):
        assert not raw_keys(text), text
