"""Built-in reference data: cited dot-com era figures, AI-cycle markers and
dated events.

The dot-com fundamentals pre-date XBRL, so bubblewatch ships them as a small
table. Every figure comes from ``../shared/research/FACTS.md`` (§1–§17; the
UNVERIFIED items of §18 are never used) and carries its source URL and a tag:

``P``
    primary: a company filing or the company's own press release.
``S``
    secondary: news outlets and data sites.
``S-weak``
    a single secondary source without an identifiable publisher.
``C``
    computed here from other rows (the source names the formula and the
    keys of its inputs).

Units: money in ``USD m`` (millions of US dollars, also for market values and
industry totals), per-share prices in ``USD/share``, index levels in
``index pts``, ratios in ``%`` or ``x``. Periods are real dates: fiscal
years keep their own start and end (Cisco's year ends on the last Saturday of
July, NVIDIA's on the last Sunday of January); a figure for one day has
``period_start == period_end``; a forecast keeps the period it forecasts and
says so in its label.

:func:`reference_rows` returns the rows for
:func:`db.repo.upsert_reference`; ``bubblewatch init`` loads them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

SOURCE_TAGS = ("P", "S", "S-weak", "C")

# --------------------------------------------------------------------------- sources
_CSCO_FY01_EX13 = "https://www.sec.gov/Archives/edgar/data/858877/000109581101505065/f75710ex13.txt"
_CSCO_FY02_EX13 = "http://www.sec.gov/Archives/edgar/data/858877/000089161802004345/f84358exv13.htm"
_CSCO_FY04_EX13 = "http://www.sec.gov/Archives/edgar/data/858877/000119312504158427/dex131.htm"
_CSCO_FY97_10K = "https://capedge.com/filing/s3-content/0000891618-97-004205/8"
_CSCO_AR02_P27 = "https://www.companyowl.com/i/d/cisco-2002-annual-report/1015?p=27"
_CSCO_AR02_P35 = "http://www.annualreportowl.com/Cisco/2002/Annual%20Report?p=37"
_CSCO_AR02_P40 = "http://annualreportowl.com/Cisco/2002/Annual%20Report?p=42"
_CSCO_AR03 = "http://www.annualreportowl.com/Cisco/2003/Annual%20Report?p=32"
_CSCO_AR04 = "http://www.annualreportowl.com/Cisco/2004/Annual%20Report?p=52"
_CSCO_PR_2001 = ("https://newsroom.cisco.com/c/r/newsroom/en/us/a/y2001/m04/"
                 "cisco-systems-offers-business-and-financial-update.html")
_CSCO_FY00_10K = "http://getfilings.com/o0001095811-00-003692.html"
_CSCO_PEAK = ("https://www.0ptions.com/p/cisco-finally-tops-its-dot-com-peak-after-25-years ; "
              "https://crossingwallstreet.com/archives/2006/08/ciscos-peak.html")
_CSCO_CAP = "https://sherwood.news/markets/after-a-quarter-century-cisco-surpasses-dot-com-bubble-closing-high"
_CROSSING = "https://crossingwallstreet.com/archives/2006/08/ciscos-peak.html"
_CSCO_IPO_DAY = ("https://d33gy59ovltp76.cloudfront.net/news/"
                 "this-day-in-market-history-the-cisco-systems-ipo")
_CEDMAG = "http://www.cedmagazine.com/news/2001/04/cisco-issues-a-warning-for-third-quarter"
_WSJ_2001 = "https://si.frajer.net/readreplies.aspx?msgid=15669730&subjectid=34638"
_BIZJ = "http://www.bizjournals.com/sanjose/stories/2000/03/20/story2.html?page=all"
_BARRONS_PE = "http://www.xent.com/FoRK-archive/sept00/0368.html"
_LIQUI = "https://liquisearch.com/stock_market_downturn_of_2002/index_levels"
_PIGLIX = "http://piglix.com/piglix/NASDAQ_Composite"
_NANDO = ("https://www.newsobserver.com/news/local/news-columns-blogs/editors-blog/"
          "article11309894.html")
_MONTEREY = ("https://www.montereyherald.com/2015/04/23/"
             "by-the-numbers-the-nasdaq-composites-record-high-close/")
_BW_2002 = "https://www.bloomberg.com/news/articles/2002-01-13/telecom-the-long-morning-after"
_BW_2001 = "https://www.bloomberg.com/news/articles/2001-09-16/table-the-telecom-meltdown-gets-worse"
_RHK = ("https://www.lightwaveonline.com/business/market-research/article/16648101/"
        "north-american-serviceprovider-capital-expenditures-to-rebound-in-2003")
_RHK2 = "https://itworldcanada.com/?p=24583"
_WSJ_FIBER = "https://si.frajer.net/readmsg.aspx?msgid=16005689"
_CW_ML = "http://www.computerweekly.com/Home/tags/merril-lynch.htm"
_BW_DEPRESSION = "https://si.frajer.net/readmsg.aspx?msgid=18043129"
_DARK_2005 = "http://www.robhyndman.com/2005/05/12/majority-of-us-fiber-still-dark/"
_SLIDESERVE = "https://cdn.slideserve.com/yukio/telecom-meltdown-facts"
_BARRONS_LOANS = "https://si.frajer.net/readreplies.aspx?msgid=14323391&subjectid=27698"
_BARRONS_WINSTAR = "https://si.frajer.net/readreplies.aspx?msgid=14320050&subjectid=2459"
_GLOBE_ATTLA = "https://si.frajer.net/readmsg.aspx?msgid=16894053"
_LIGHTREADING_JDSU = "https://www.lightreading.com/sizing-up-jdsus-massive-loss/d/d-id/575080"
_SLATE_JDSU = ("http://www.slate.com/articles/business/moneybox/2001/07/"
               "how_to_make_45_billion_disappear.html")
_CNNFN_JDSU = "http://cnnfn.cnn.com/2001/09/19/technology/jds/index.htm"
_NV_FY24_PR = ("https://telecomtv.com/content/digital-platforms-services/"
               "nvidia-announces-financial-results-for-fourth-quarter-and-fiscal-2024-49705")
_NV_FY25_PR = "https://thxnews.com/2025/02/26/nvidia-record-39-3b-revenue-driven-by-ai/"
_NV_FY26_PR = ("https://menafn.com/1110790416/"
               "NVIDIA-Announces-Financial-Results-For-Fourth-Quarter-And-Fiscal-2026")
_NV_Q1FY25_10Q = ("https://d18rn0p25nwr6d.cloudfront.net/CIK-0001045810/"
                  "54463f4d-4f5b-4314-aae7-dcc82053a822.html")
_NV_Q2FY25_10Q = ("https://d18rn0p25nwr6d.cloudfront.net/CIK-0001045810/"
                  "4e90bf5c-0dbf-471d-a5b4-8a5d11e2c1f9.html")
_NV_Q3FY25_10Q = ("https://d18rn0p25nwr6d.cloudfront.net/CIK-0001045810/"
                  "3bd9bea7-2991-483d-a2a4-7364e0fa918a.html")
_NV_Q1FY26_10Q = ("https://d18rn0p25nwr6d.cloudfront.net/CIK-0001045810/"
                  "900b249e-ed77-4b01-93d0-5a977cbf57b4.html")
_NV_Q2FY26_10Q = ("https://d18rn0p25nwr6d.cloudfront.net/CIK-0001045810/"
                  "feef3adb-056d-472a-9079-91dab7abd947.html")
_NV_Q3FY26_10Q = ("https://d18rn0p25nwr6d.cloudfront.net/CIK-0001045810/"
                  "8cd43068-e807-4ac1-a338-15e5ed726cd8.html")
_NV_Q4FY25_S = "http://urbanmusicblog.net/p/nvidia/comments/1iyz82e/nvidia_fiscal_q4_2025_financial_result"
_ANANDTECH_Q2FY21 = ("http://adminnet.anandtech.com/show/16013/"
                     "nvidia-reports-q2-fy2021-earnings-datacenter-revenue-surpasses-gaming-for-the-first-time")
_ANANDTECH_Q4FY21 = ("http://www1.anandtech.com/Show/Index/16510?cPage=2&all=False&sort=0&page=1"
                     "&slug=nvidia-closes-out-q4-fy2021-with-another-round-of-record-earnings")
_FMP_NVDA = "https://site.financialmodelingprep.com/balance-sheet-data/NVDA/"
_TITAN_NVDA = "https://titanstockanalysis.com/?p=2109"
_WSW_NVDA = ("https://wallstreetwaves.com/"
             "nvidia-earnings-report-raises-concerns-should-investors-still-consider-the-stock")
_MICROCAP_DSO = ("https://microcapwatch.com/investing-news/"
                 "nvidia-days-sales-outstanding-sparks-debate-for-nvda")
_NV_H20 = "https://www.sec.gov/Archives/edgar/data/1045810/000104581025000116/R15.htm"
_LBKRS_DEEPSEEK = "https://web-origin.lbkrs.com/news/226415927"
_EPOCH_DEEPSEEK = ("https://theepochtimes.com/business/"
                   "nvidia-loses-nearly-600-billion-in-biggest-single-day-market-loss-in-history-5799923")
_AINVEST_PE = "https://www.ainvest.com/news/nvidia-ratio-hidden-gem-ai-chip-market-2502"
_CRWV_424B4 = "https://www.sec.gov/Archives/edgar/data/1769628/000119312525067651/d899798d424b4.htm"
_CRWV_REUTERS = "https://m.dandanzkw.com/article/79823.html"
_CRWV_ITIGER = "https://itiger.com/hans/news/2523555507"
_CRWV_Q1 = "https://tradepost.ai/analysis/10q-coreweave-inc-0001769628-filer"
_CRWV_Q2 = ("https://fox28spokane.marketminute.com/article/"
            "bizwire-2025-8-12-coreweave-reports-strong-second-quarter-2025-results")
_CRWV_NV_ORDER = "https://trendinginfo.blog/?p=26523 ; https://reportify.ai/news/1198189331857281024"
_SA_GOOGL = ("https://www.stock-analysis-on.net/NASDAQ/Company/Alphabet-Inc/"
             "Financial-Statement/Statement-of-Cash-Flows")
_SA_AMZN = ("https://stock-analysis-on.net/NASDAQ/Company/Amazoncom-Inc/"
            "Financial-Statement/Statement-of-Cash-Flows")
_SA_META = "https://beautifydata.com/us-sec/business-finances/latest-annual-financials-per-company/meta-platforms-inc/cash-flow"
_SA_MSFT = "https://stockanalysis.com/quote/etr/MSF/financials/cash-flow-statement"
_BW_CSV = ("GitHub danyu1/bridgewater_forecasting BW2026_Q11_HYPERSCALER_CAPEX_Q4_2025/"
           "capex_history_quarterly.csv (commit 7b5b1ae6), SEC-XBRL-derived")
_GH_57935862137 = ("SEC-Company-Facts-derived GitHub data file (find_string id 57935862137; "
                   "repository not returned)")
_ORCL_CAPEX = ("https://monexa.ai/blog/oracle-ai-growth-oci-s-ai-infrastructure-surge-fue-ORCL-2025-06-25"
               " ; https://earningsanatomy.com/blogs/oracle-fy2025-10k-cloud-growth-cash-flow-plunge")
_SEQUOIA = "https://sequoiacap.com/article/ais-600b-question"
_SEQUOIA_S = "https://fvbb.com/ns/companies-ai-bets-are-at-astronomical/259674"
_SEQUOIA_GAP = ("https://www.everydays.wtf/link-ai-industry-needs-to-earn-600-billion-per-year-to-pay-"
                "for-massive-hardware-spend-fears-of-an-ai-bubble-intensify-in-wake-of-sequoia-report-"
                "toms-hardware/")
_STARGATE = "https://www.centerconsulting.com/ai-library/milestones/2025-stargate"
_GSY_SUMMARY = "https://theirrelevantinvestor.com/2017/03/02/can-you-predict-bubbles/"
_GSY_PAPER = "http://www.nber.org/papers/w23191"
_INSOLUTIONS = "https://insolutionsegypt.com/nvidia-revenue-composition-analysis-2021-2024"
_AIFRONT = ("https://aifront-page.com/nvidia-hits-revenue-records-as-ai-driven-data-center-demand-"
            "surges-75-yoy")


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _fig(key: str, entity: str, metric: str, value: float, unit: str, start: str | None,
         end: str | None, label: str, source: str, tag: str) -> dict[str, Any]:
    return {
        "key": key, "entity": entity, "metric": metric, "value": float(value), "unit": unit,
        "period_start": _d(start), "period_end": _d(end if end is not None else start),
        "label": label, "source": source, "source_tag": tag,
    }


def _day(key: str, entity: str, metric: str, value: float, unit: str, day: str, label: str,
         source: str, tag: str) -> dict[str, Any]:
    return _fig(key, entity, metric, value, unit, day, day, label, source, tag)


def _cy(year: int) -> tuple[str, str]:
    return f"{year}-01-01", f"{year}-12-31"


# Fiscal years with their real boundaries.
CSCO_FY: dict[int, tuple[str, str]] = {
    1997: ("1996-07-28", "1997-07-26"),
    1998: ("1997-07-27", "1998-07-25"),
    1999: ("1998-07-26", "1999-07-31"),  # 53 weeks
    2000: ("1999-08-01", "2000-07-29"),
    2001: ("2000-07-30", "2001-07-28"),
    2002: ("2001-07-29", "2002-07-27"),
    2003: ("2002-07-28", "2003-07-26"),
    2004: ("2003-07-27", "2004-07-31"),  # 53 weeks
}
NVDA_FY: dict[int, tuple[str, str]] = {
    2019: ("2018-01-29", "2019-01-27"),
    2020: ("2019-01-28", "2020-01-26"),
    2021: ("2020-01-27", "2021-01-31"),
    2022: ("2021-02-01", "2022-01-30"),
    2023: ("2022-01-31", "2023-01-29"),
    2024: ("2023-01-30", "2024-01-28"),
    2025: ("2024-01-29", "2025-01-26"),
    2026: ("2025-01-27", "2026-01-25"),
}
#: NVIDIA fiscal quarters (from the 10-Q/10-K period boundaries in EDGAR).
NVDA_Q: dict[str, tuple[str, str]] = {
    "FY21Q1": ("2020-01-27", "2020-04-26"), "FY21Q2": ("2020-04-27", "2020-07-26"),
    "FY21Q3": ("2020-07-27", "2020-10-25"), "FY21Q4": ("2020-10-26", "2021-01-31"),
    "FY24Q1": ("2023-01-30", "2023-04-30"), "FY24Q2": ("2023-05-01", "2023-07-30"),
    "FY24Q3": ("2023-07-31", "2023-10-29"), "FY24Q4": ("2023-10-30", "2024-01-28"),
    "FY25Q1": ("2024-01-29", "2024-04-28"), "FY25Q2": ("2024-04-29", "2024-07-28"),
    "FY25Q3": ("2024-07-29", "2024-10-27"), "FY25Q4": ("2024-10-28", "2025-01-26"),
    "FY26Q1": ("2025-01-27", "2025-04-27"), "FY26Q2": ("2025-04-28", "2025-07-27"),
    "FY26Q3": ("2025-07-28", "2025-10-26"), "FY26Q4": ("2025-10-27", "2026-01-25"),
}
MSFT_FY = {y: (f"{y - 1}-07-01", f"{y}-06-30") for y in range(2019, 2027)}
ORCL_FY = {y: (f"{y - 1}-06-01", f"{y}-05-31") for y in range(2019, 2027)}

# Cisco fundamentals (FY2001/FY2002/FY2004 10-K Exhibit 13; restated basis).
_CSCO_FUND: list[tuple[int, float, float, str]] = [
    (1997, 6452, 1047, _CSCO_FY01_EX13),
    (1998, 8489, 1331, _CSCO_FY01_EX13),
    (1999, 12173, 2023, _CSCO_FY01_EX13),
    (2000, 18928, 2668, _CSCO_FY01_EX13 + " ; " + _CSCO_FY02_EX13),
    (2001, 22293, -1014, _CSCO_FY01_EX13),
    (2002, 18915, 1893, _CSCO_FY02_EX13),
    (2003, 18878, 3578, _CSCO_FY04_EX13),
    (2004, 22045, 4401, _CSCO_FY04_EX13),
]
_CSCO_ASSETS = {1997: 5504, 1998: 9043, 1999: 14893, 2000: 32870, 2001: 35238,
                2002: 37795, 2003: 37107, 2004: 35594}
_CSCO_CASH = {1998: 5793, 1999: 10214, 2000: 20499, 2001: 18517, 2002: 21456}

# NVIDIA quarterly revenue / Data Center revenue / net income, USD m (FACTS §11).
_NVDA_QUARTERS: list[tuple[str, float, float, float, str, str, str]] = [
    # quarter, revenue, DC revenue, net income, revenue source, DC source, DC tag
    ("FY24Q1", 7192, 4280, 2043, _NV_Q1FY25_10Q,
     "https://convergedigest.blogspot.com/2023/05/nvidias-data-center-revenue-rises-14.html", "S"),
    ("FY24Q2", 13507, 10320, 6188, _NV_Q2FY25_10Q,
     "https://sharecg.com/nbc/articles/view_article.php?articleid=2023174&page_no=2", "S"),
    ("FY24Q3", 18120, 14510, 9243, _NV_Q3FY25_10Q,
     ("https://www.fierceelectronics.com/electronics/"
      "another-revenue-rocket-ride-nvidia-data-center-sales-surge"), "S"),
    ("FY24Q4", 22103, 18404, 12285, _NV_FY24_PR, _NV_Q4FY25_S, "S"),
    ("FY25Q1", 26044, 22600, 14881, _NV_Q1FY25_10Q,
     "https://datacenternews.asia/story/nvidia-achieves-record-revenue-of-usd-26-billion-in-q1-2025",
     "S"),
    ("FY25Q2", 30040, 26300, 16599, _NV_Q2FY25_10Q,
     "https://marketbeat.com/earnings/transcripts/110080", "S"),
    ("FY25Q3", 35082, 30800, 19309, _NV_Q3FY25_10Q,
     "https://www.sankify.ai/blog/nvidia-q3-2024-earnings-breakdown", "S"),
    ("FY25Q4", 39331, 35580, 22091, _NV_Q4FY25_S, _NV_Q4FY25_S, "S"),
    ("FY26Q1", 44062, 39100, 18775, _NV_Q1FY26_10Q,
     "https://reportify.ai/financials/1125325378114686976", "S"),
    ("FY26Q2", 46743, 41100, 26422, _NV_Q2FY26_10Q,
     ("https://subtext.edge.nugit.net/image/711f08cf3101f00f84f55101d87fb051e55eee4b088ac593fc1b"
      "32d30291b8c4?model=gemini-2.0-flash"), "S"),
    ("FY26Q3", 57006, 51200, 31910, _NV_Q3FY26_10Q, _WSW_NVDA, "S"),
    ("FY26Q4", 68127, 62300, 42960, _NV_FY26_PR, _NV_FY26_PR, "P"),
]
_NVDA_FY21_DC = [("FY21Q1", 1141, _ANANDTECH_Q2FY21), ("FY21Q2", 1752, _ANANDTECH_Q2FY21),
                 ("FY21Q3", 1900, _ANANDTECH_Q4FY21), ("FY21Q4", 1903, _ANANDTECH_Q4FY21)]


def _cisco_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for fy, rev, ni, src in _CSCO_FUND:
        s, e = CSCO_FY[fy]
        rows.append(_fig(f"csco_revenue_fy{fy}", "CSCO", "revenue", rev, "USD m", s, e,
                         f"Cisco net sales FY{fy} (restated basis)", src, "P"))
        rows.append(_fig(f"csco_net_income_fy{fy}", "CSCO", "net_income", ni, "USD m", s, e,
                         f"Cisco net income (loss) FY{fy}"
                         + (" after a -567 cumulative-effect charge" if fy == 2004 else ""),
                         src, "P"))
    s, e = CSCO_FY[1997]
    rows += [
        _fig("csco_revenue_fy1997_original", "CSCO", "revenue_as_originally_reported", 6440.2,
             "USD m", s, e, "Cisco net sales FY1997 as originally reported", _CSCO_FY97_10K, "P"),
        _fig("csco_net_income_fy1997_original", "CSCO", "net_income_as_originally_reported",
             1048.7, "USD m", s, e,
             "Cisco net income FY1997 as originally reported (incl. 508.4 in-process R&D)",
             _CSCO_FY97_10K, "P"),
    ]
    for fy, v in _CSCO_ASSETS.items():
        src = _CSCO_FY01_EX13 if fy <= 2001 else _CSCO_FY04_EX13
        rows.append(_day(f"csco_total_assets_fy{fy}", "CSCO", "total_assets", v, "USD m",
                         CSCO_FY[fy][1], f"Cisco total assets at FY{fy} year-end", src, "P"))
    for fy, v in _CSCO_CASH.items():
        rows.append(_day(f"csco_cash_investments_fy{fy}", "CSCO", "cash_and_investments", v,
                         "USD m", CSCO_FY[fy][1],
                         f"Cisco cash, cash equivalents and total investments, FY{fy} year-end",
                         _CSCO_FY02_EX13, "P"))
    for fy, cos, gm in [(2000, 5970, 12182), (2001, 10198, 11072), (2002, 5914, 12013)]:
        s, e = CSCO_FY[fy]
        rows.append(_fig(f"csco_product_cost_of_sales_fy{fy}", "CSCO", "product_cost_of_sales",
                         cos, "USD m", s, e, f"Cisco product cost of sales FY{fy}",
                         _CSCO_AR02_P27, "P"))
        rows.append(_fig(f"csco_gross_margin_fy{fy}", "CSCO", "gross_margin", gm, "USD m", s, e,
                         f"Cisco gross margin FY{fy}", _CSCO_AR02_P27, "P"))
    rows += [
        _fig("csco_purchase_commitments_fy2002", "CSCO", "purchase_commitments", 825, "USD m",
             CSCO_FY[2002][1], None,
             "Cisco inventory purchase commitments with contract manufacturers, FY2002 year-end "
             "(restated figure in the 2003 annual report; ~800 in the 2002 report)",
             _CSCO_AR03 + " ; " + _CSCO_AR02_P40, "P"),
        _fig("csco_purchase_commitments_fy2003", "CSCO", "purchase_commitments", 718, "USD m",
             CSCO_FY[2003][1], None, "Cisco inventory purchase commitments, FY2003 year-end",
             _CSCO_AR03, "P"),
        _fig("csco_purchase_commitments_fy2004", "CSCO", "purchase_commitments", 951, "USD m",
             CSCO_FY[2004][1], None, "Cisco inventory purchase commitments, FY2004 year-end (~951)",
             _CSCO_AR04, "P"),
        # 2001 inventory write-down and restructuring
        _day("csco_inventory_charge_guidance_2001", "CSCO", "inventory_charge_guidance", 2500,
             "USD m", "2001-04-16",
             "Expected excess-inventory charge announced 2001-04-16 for Q3 FY2001 ('approximately "
             "$2.5 billion')", _CSCO_PR_2001, "P"),
        _day("csco_inventory_charge_guidance_raw_2001", "CSCO", "inventory_charge_guidance_raw",
             2000, "USD m", "2001-04-16",
             "Raw-materials part of the announced charge (~2,000; ~500 finished goods)", _CEDMAG,
             "S"),
        _fig("csco_inventory_charge_fy2001", "CSCO", "inventory_charge", 2249, "USD m",
             *CSCO_FY[2001], "Excess inventory charge booked in FY2001", _CSCO_FY01_EX13, "P"),
        _fig("csco_inventory_benefit_fy2001", "CSCO", "inventory_charge_reversal", -187, "USD m",
             *CSCO_FY[2001], "Excess inventory benefit (reversal) booked in FY2001",
             _CSCO_FY01_EX13, "P"),
        _fig("csco_restructuring_q3fy2001", "CSCO", "restructuring_charge", 1170, "USD m",
             "2001-01-28", "2001-04-28",
             "Restructuring and other special charges, Q3 FY2001 (workforce 397, facilities 484, "
             "goodwill/intangibles 289)", _CSCO_AR02_P35, "P"),
        _day("csco_inventory_after_charge_q3fy2001", "CSCO", "inventory_expected", 1600, "USD m",
             "2001-04-28", "Expected inventory balance after the charge, end of Q3 FY2001 (~1.6bn)",
             _WSJ_2001, "S"),
        _day("csco_workforce_cut_2001", "CSCO", "workforce_reduction", 8500, "people",
             "2001-04-16", "Announced workforce reduction (incl. 2,500 temporary/contract)",
             _WSJ_2001, "S"),
        _fig("csco_q2fy2001_revenue_base", "CSCO", "revenue_quarter", 6700, "USD m",
             "2000-10-29", "2001-01-27",
             "Q2 FY2001 revenue (~6.7bn), base of the -30% q/q Q3 guidance", _CSCO_PR_2001, "P"),
        _day("csco_q3fy2001_revenue_guidance", "CSCO", "revenue_guidance_qoq", -30, "%",
             "2001-04-16", "Q3 FY2001 revenue guidance, change q/q", _CSCO_PR_2001, "P"),
        _fig("csco_softbank_fund_commitment", "CSCO", "vendor_financing_commitment", 1000,
             "USD m", *CSCO_FY[2001],
             "Commitment to invest in SOFTBANK venture funds (100 funded by 2002-07-27)",
             _CSCO_AR02_P40, "P"),
        # share price and valuation at the 2000 peak
        _day("csco_close_peak_2000", "CSCO", "close_peak", 80.06, "USD/share", "2000-03-27",
             "Cisco record close of the dot-com era (split-adjusted = nominal)", _CSCO_PEAK, "S"),
        _day("csco_intraday_high_2000", "CSCO", "intraday_high", 82.0, "USD/share", "2000-03-27",
             "Cisco intraday high on the peak day (~82)", _CROSSING, "S"),
        _day("csco_market_cap_peak_reported", "CSCO", "market_cap_peak", 550000, "USD m",
             "2000-03-27", "Cisco peak market value as reported ('more than $550 billion')",
             _CSCO_CAP, "S"),
        _fig("csco_shares_basic_fy2000", "CSCO", "shares_weighted_basic", 6917, "m shares",
             *CSCO_FY[2000], "Cisco FY2000 basic weighted-average shares", _CSCO_FY01_EX13, "P"),
        _day("csco_shares_outstanding_2000_09_22", "CSCO", "shares_outstanding", 7042,
             "m shares", "2000-09-22", "Cisco shares outstanding (FY2000 10-K cover)",
             _CSCO_FY00_10K, "P"),
        _day("csco_market_cap_peak_low", "CSCO", "market_cap_peak_computed_low", 80.06 * 6917,
             "USD m", "2000-03-27", "Peak market value computed on FY2000 basic weighted shares",
             "80.06 x 6,917: csco_close_peak_2000 x csco_shares_basic_fy2000", "C"),
        _day("csco_market_cap_peak_high", "CSCO", "market_cap_peak_computed_high", 80.06 * 7042,
             "USD m", "2000-03-27", "Peak market value computed on shares outstanding 2000-09-22",
             "80.06 x 7,042: csco_close_peak_2000 x csco_shares_outstanding_2000_09_22", "C"),
        _day("csco_pe_peak_fy2000", "CSCO", "pe_peak", 80.06 * 6917 / 2668, "x", "2000-03-27",
             "Cisco P/E at the 2000 peak close on FY2000 net income (FY ended 2000-07-29; "
             "trailing-quarter figures at the peak are not in the verified table)",
             "80.06 x 6,917 / 2,668: csco_close_peak_2000, csco_shares_basic_fy2000, "
             "csco_net_income_fy2000", "C"),
        _day("csco_ps_peak_fy2000", "CSCO", "ps_peak", 80.06 * 6917 / 18928, "x", "2000-03-27",
             "Cisco price/sales at the 2000 peak close on FY2000 net sales",
             "80.06 x 6,917 / 18,928: csco_close_peak_2000, csco_shares_basic_fy2000, "
             "csco_revenue_fy2000", "C"),
        _day("csco_pe_forward_2000_03_14", "CSCO", "pe_forward_cited", 120, "x", "2000-03-14",
             "Forward P/E on the analyst EPS estimate (~120x)", _BIZJ, "S"),
        _fig("csco_pe_barrons_2000_05", "CSCO", "pe_cited", 190, "x", "2000-05-01", "2000-05-31",
             "P/E cited by Barron's, May 2000", _BARRONS_PE, "S"),
        _fig("csco_market_cap_decline_1y", "CSCO", "market_cap_change_1y", -77.4, "%",
             "2000-03-27", "2001-03-27", "Market-value decline in the year after the peak",
             _CSCO_IPO_DAY, "S"),
        _fig("csco_close_low_2002", "CSCO", "close_low", 8.12, "USD/share", "2002-10-01",
             "2002-10-31", "Cisco post-bubble low share price (Oct 2002)", _CROSSING, "S"),
        _fig("csco_drawdown_peak_to_low", "CSCO", "drawdown", (8.12 / 80.06 - 1) * 100, "%",
             "2000-03-27", "2002-10-31", "Cisco peak-to-low decline",
             "1 - 8.12/80.06: csco_close_low_2002, csco_close_peak_2000", "C"),
    ]
    return rows


def _nasdaq_rows() -> list[dict[str, Any]]:
    rows = [
        _day("ixic_close_peak_2000", "^IXIC", "close_peak", 5048.62, "index pts", "2000-03-10",
             "Nasdaq Composite record close at the dot-com peak",
             f"{_NANDO} ; {_PIGLIX} ; {_LIQUI}", "S"),
        _day("ixic_intraday_high_2000", "^IXIC", "intraday_high", 5132.52, "index pts",
             "2000-03-10", "Nasdaq Composite intraday high", _PIGLIX, "S"),
        _day("ixic_close_trough_2002", "^IXIC", "close_trough", 1114.11, "index pts", "2002-10-09",
             "Nasdaq Composite bear-market low close", f"{_LIQUI} ; {_MONTEREY}", "S"),
        _day("ixic_intraday_low_2002", "^IXIC", "intraday_low", 1108.49, "index pts", "2002-10-10",
             "Nasdaq Composite intraday low", _PIGLIX, "S"),
        _fig("ixic_drawdown_close", "^IXIC", "drawdown", (1114.11 / 5048.62 - 1) * 100, "%",
             "2000-03-10", "2002-10-09", "Nasdaq peak-to-trough drawdown, closes",
             "1 - 1114.11/5048.62: ixic_close_trough_2002, ixic_close_peak_2000", "C"),
        _fig("ixic_drawdown_intraday", "^IXIC", "drawdown_intraday",
             (1108.49 / 5132.52 - 1) * 100, "%", "2000-03-10", "2002-10-10",
             "Nasdaq peak-to-trough drawdown, intraday",
             "1 - 1108.49/5132.52: ixic_intraday_low_2002, ixic_intraday_high_2000", "C"),
        _day("ixic_close_above_2000_record", "^IXIC", "close_first_above_2000_record", 5056.06,
             "index pts", "2015-04-23", "First Nasdaq close above the 2000 record", _PIGLIX, "S"),
        _fig("ixic_msft_largest_2000", "MSFT", "market_cap", 525000, "USD m", "2000-03-01",
             "2000-03-31", "Microsoft, the largest Nasdaq company at the 2000 peak", _MONTEREY, "S"),
        _fig("ixic_tech_share_2000", "^IXIC", "technology_weight", 65, "%", *_cy(2000),
             "Technology share of the Nasdaq Composite in 2000", _MONTEREY, "S"),
    ]
    for day, v in [("1999-12-31", 4069.31), ("2000-12-29", 2470.52), ("2001-12-31", 1950.40),
                   ("2002-12-31", 1335.51), ("2003-12-31", 2003.37)]:
        rows.append(_day(f"ixic_close_year_end_{day[:4]}", "^IXIC", "close_year_end", v,
                         "index pts", day, f"Nasdaq Composite year-end close {day[:4]}", _LIQUI,
                         "S"))
    return rows


def _telecom_rows() -> list[dict[str, Any]]:
    return [
        _fig("telecom_us_equipment_2000", "telecom_us_carriers", "equipment_spending", 110000,
             "USD m", *_cy(2000), "US carrier telecom equipment spending 2000 (ABN AMRO survey)",
             _BW_2002, "S"),
        _fig("telecom_us_equipment_growth_2000", "telecom_us_carriers",
             "equipment_spending_growth", 30, "%", *_cy(2000),
             "US carrier telecom equipment spending growth y/y, 2000", _BW_2002, "S"),
        _fig("telecom_global_capex_2001", "telecom_global_carriers", "capex", 274000, "USD m",
             *_cy(2001), "Global carrier capex 2001 (-1% y/y)", _BW_2002, "S"),
        _fig("telecom_global_capex_2002f", "telecom_global_carriers", "capex_forecast", 228000,
             "USD m", *_cy(2002), "Global carrier capex 2002, forecast made Jan 2002 (-17%)",
             _BW_2002, "S"),
        _fig("telecom_equipment_lehman_2001", "telecom_equipment_lehman", "equipment_spending",
             102000, "USD m", *_cy(2001), "Telecom equipment spending 2001, Lehman survey (-5%)",
             _BW_2001, "S"),
        _fig("telecom_equipment_lehman_2002f", "telecom_equipment_lehman",
             "equipment_spending_forecast", 82000, "USD m", *_cy(2002),
             "Telecom equipment spending 2002, Lehman forecast (Sept 2001)", _BW_2001, "S"),
        _fig("telecom_na_wireline_capex_2000", "telecom_na_wireline", "capex", 92000, "USD m",
             *_cy(2000), "North American wireline service-provider capex 2000 (RHK)", _RHK, "S"),
        _fig("telecom_na_wireline_capex_2001", "telecom_na_wireline", "capex", 66000, "USD m",
             *_cy(2001), "North American wireline service-provider capex 2001 (RHK, ~-28%)", _RHK,
             "S"),
        _fig("telecom_na_wireline_capex_2002f", "telecom_na_wireline", "capex_forecast", 53000,
             "USD m", *_cy(2002), "North American wireline capex 2002, RHK forecast (~-20%)", _RHK,
             "S"),
        _fig("telecom_na_sp_capex_2001", "telecom_na_service_providers", "capex", 77000, "USD m",
             *_cy(2001), "North American service-provider capex 2001 (RHK, later report)", _RHK2,
             "S"),
        _fig("telecom_na_sp_capex_2002f_low", "telecom_na_service_providers",
             "capex_forecast_low", 46000, "USD m", *_cy(2002),
             "North American service-provider capex 2002, RHK forecast, low end", _RHK2, "S"),
        _fig("telecom_na_sp_capex_2002f_high", "telecom_na_service_providers",
             "capex_forecast_high", 51000, "USD m", *_cy(2002),
             "North American service-provider capex 2002, RHK forecast, high end", _RHK2, "S"),
        _fig("telecom_capex_bubble_1999_2000", "telecom_na_service_providers", "capex_bubble",
             50000, "USD m", "1999-01-01", "2000-12-31",
             "'Bubble' in service-provider capex 1999-2000 (RHK)", _RHK, "S"),
        _fig("telecom_fiber_laid_1997_2001", "telecom_us_carriers", "fiber_investment", 90000,
             "USD m", "1997-01-01", "2001-12-31", "Fiber laid by networks racing to build (~90bn)",
             _WSJ_FIBER, "S"),
        _fig("telecom_fiber_miles_2001", "telecom_us_carriers", "fiber_installed", 39, "m miles",
             *_cy(2001), "US fiber-optic cable installed (~39 million miles)", _WSJ_FIBER, "S"),
        _fig("telecom_fiber_capacity_lit_2001", "telecom_us_carriers", "fiber_capacity_lit", 2.6,
             "%", *_cy(2001), "Share of fiber capacity in use (Merrill Lynch estimate)",
             _WSJ_FIBER, "S"),
        _fig("telecom_fiber_strands_lit_2002", "telecom_us_carriers", "fiber_strands_lit", 10,
             "%", *_cy(2002), "Share of fiber strands in use (Merrill Lynch, ~10%)", _CW_ML, "S"),
        _fig("telecom_network_utilisation_2002", "telecom_us_carriers", "network_utilisation",
             35, "%", *_cy(2002), "Utilisation of networks in operation (~35%)", _BW_DEPRESSION,
             "S"),
        _fig("telecom_fiber_dark_2005", "telecom_us_carriers", "fiber_dark", 85, "%",
             "2005-05-01", "2005-05-31", "Fiber still unused ('dark'), May 2005", _DARK_2005, "S"),
        _fig("telecom_bankruptcies_2000", "telecom_us_carriers", "bankruptcies", 20, "count",
             *_cy(2000), "Telecom bankruptcies 2000", _SLIDESERVE, "S-weak"),
        _fig("telecom_bankruptcies_2001", "telecom_us_carriers", "bankruptcies", 77, "count",
             *_cy(2001), "Telecom bankruptcies 2001", _SLIDESERVE, "S-weak"),
        _fig("telecom_market_value_lost", "telecom_us_carriers", "market_value_lost", 2000000,
             "USD m", "2000-01-01", "2002-12-31", "Market value lost in telecom 2000-2002 (~2tn)",
             _BW_DEPRESSION, "S"),
        # vendor financing
        _fig("vendor_loans_commitments_2000_09", "telecom_vendors", "vendor_financing", 8700,
             "USD m", "2000-09-04", "2000-09-04",
             "Loans plus commitments to lend by telecom equipment makers (Barron's aggregate)",
             _BARRONS_LOANS, "S"),
        _fig("lucent_winstar_financing_2000", "Lucent", "vendor_financing", 2000, "USD m",
             *_cy(2000), "Lucent financing package for Winstar", _BARRONS_WINSTAR, "S"),
        _day("vendors_att_latam_loan_2002", "telecom_vendors", "vendor_financing", 298, "USD m",
             "2002-01-10",
             "Nortel + Lucent + Cisco joint vendor loan to AT&T Latin America (plus 70 bridge)",
             _GLOBE_ATTLA, "S"),
        # JDS Uniphase (now VIAV)
        _fig("jdsu_net_loss_fy2001", "VIAV", "net_income", -50600, "USD m", "2000-07-01",
             "2001-06-30", "JDS Uniphase FY2001 net loss", f"{_LIGHTREADING_JDSU} ; {_CNNFN_JDSU}",
             "S"),
        _fig("jdsu_goodwill_writedown_fy2001", "VIAV", "goodwill_writedown", 44800, "USD m",
             "2000-07-01", "2001-06-30", "JDS Uniphase goodwill write-down within the FY2001 loss",
             _SLATE_JDSU, "S"),
        _day("jdsu_goodwill_addon_2001_09", "VIAV", "goodwill_writedown_addon", 5300, "USD m",
             "2001-09-19", "Additional FY2001 goodwill write-downs announced 2001-09-19",
             _CNNFN_JDSU, "S"),
        _fig("jdsu_net_loss_fy2001_incl_addon", "VIAV", "net_income_incl_addon", -55900, "USD m",
             "2000-07-01", "2001-06-30", "JDS Uniphase FY2001 loss including the September add-on",
             "-(50,600 + 5,300): jdsu_net_loss_fy2001, jdsu_goodwill_addon_2001_09", "C"),
        _fig("jdsu_sales_fy2001", "VIAV", "revenue", 3200, "USD m", "2000-07-01", "2001-06-30",
             "JDS Uniphase FY2001 sales", _LIGHTREADING_JDSU, "S"),
        _fig("jdsu_peak_market_cap", "VIAV", "market_cap_peak", 200000, "USD m", *_cy(2000),
             "JDS Uniphase peak market value (~200bn)", _SLATE_JDSU, "S"),
    ]


def _nvidia_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for q, rev, dc, ni, src, dc_src, dc_tag in _NVDA_QUARTERS:
        s, e = NVDA_Q[q]
        rev_tag = "S" if src == _NV_Q4FY25_S else "P"
        rows.append(_fig(f"nvda_revenue_{q.lower()}", "NVDA", "revenue_quarter", rev, "USD m", s,
                         e, f"NVIDIA revenue {q}", src, rev_tag))
        rows.append(_fig(f"nvda_dc_revenue_{q.lower()}", "NVDA", "dc_revenue_quarter", dc,
                         "USD m", s, e, f"NVIDIA Data Center revenue {q}", dc_src, dc_tag))
        rows.append(_fig(f"nvda_net_income_{q.lower()}", "NVDA", "net_income_quarter", ni,
                         "USD m", s, e, f"NVIDIA net income {q}", src, rev_tag))
    for q, dc, src in _NVDA_FY21_DC:
        s, e = NVDA_Q[q]
        rows.append(_fig(f"nvda_dc_revenue_{q.lower()}", "NVDA", "dc_revenue_quarter", dc,
                         "USD m", s, e, f"NVIDIA Data Center revenue {q}", src, "S"))
    annual = [
        (2020, "revenue", 10918, _GH_57935862137, "S-weak"),
        (2020, "net_income", 2796, _GH_57935862137, "S-weak"),
        (2021, "revenue", 16675, "https://www.fudzilla.com/news/52418-nvidia-beats-q4-fy2021-expectations",
         "S"),
        (2021, "net_income", 4332, _ANANDTECH_Q4FY21, "S"),
        (2022, "revenue", 26914, "https://stockswall.com/nvidianvda-2024-financial-analysis", "S"),
        (2023, "revenue", 26974, "https://stockswall.com/nvidianvda-2024-financial-analysis", "S"),
        (2024, "revenue", 60922, _NV_FY24_PR, "P"),
        (2022, "net_income", 9752, "https://stockswall.com/nvidianvda-2024-financial-analysis", "S"),
        (2023, "net_income", 4368, "https://stockswall.com/nvidianvda-2024-financial-analysis", "S"),
        (2024, "net_income", 29760, "https://stockswall.com/nvidianvda-2024-financial-analysis", "S"),
        (2025, "revenue", 130497, _NV_FY25_PR, "P"),
        (2025, "net_income", 72880, ("GitHub FMP income-statement fixture (find_string id "
                                     "57564293847) and other independent data files"), "S"),
        (2026, "revenue", 215938, _NV_FY26_PR, "P"),
        (2026, "net_income", 120067, _GH_57935862137, "S-weak"),
        (2021, "dc_revenue", 6696, ("1,141 + 1,752 + 1,900 + 1,903: nvda_dc_revenue_fy21q1, "
                                    "nvda_dc_revenue_fy21q2, nvda_dc_revenue_fy21q3, "
                                    "nvda_dc_revenue_fy21q4"), "C"),
        (2022, "dc_revenue", 10600, _INSOLUTIONS, "S"),
        (2023, "dc_revenue", 15010, _INSOLUTIONS, "S"),
        (2024, "dc_revenue", 47500, _NV_FY24_PR, "P"),
        (2025, "dc_revenue", 115186, _NV_FY25_PR, "P"),
        (2026, "dc_revenue", 193700, _AIFRONT, "S"),
    ]
    for fy, metric, v, src, tag in annual:
        s, e = NVDA_FY[fy]
        rows.append(_fig(f"nvda_{metric}_fy{fy}", "NVDA", metric, v, "USD m", s, e,
                         f"NVIDIA {metric.replace('_', ' ')} FY{fy}"
                         + (" (rounded)" if fy in (2022, 2023) and metric == "dc_revenue" else ""),
                         src, tag))
    for fy, ar, inv in [(2019, 1424, 1575), (2020, 1657, 979), (2021, 2429, 1826),
                        (2022, 4650, 2605), (2023, 3827, 5159)]:
        end = NVDA_FY[fy][1]
        rows.append(_day(f"nvda_receivables_fy{fy}", "NVDA", "receivables", ar, "USD m", end,
                         f"NVIDIA accounts receivable, FY{fy} year-end", _FMP_NVDA, "S"))
        rows.append(_day(f"nvda_inventory_fy{fy}", "NVDA", "inventory", inv, "USD m", end,
                         f"NVIDIA inventories, FY{fy} year-end", _FMP_NVDA, "S"))
    rows += [
        _day("nvda_inventory_fy2025", "NVDA", "inventory", 10080, "USD m", NVDA_FY[2025][1],
             "NVIDIA inventories, FY2025 year-end", _TITAN_NVDA, "S"),
        _day("nvda_receivables_fy2025", "NVDA", "receivables", 23065, "USD m", NVDA_FY[2025][1],
             "NVIDIA accounts receivable, FY2025 year-end",
             "API example payload in a GitHub doc file (find_string id 67178161983)", "S-weak"),
        _day("nvda_inventory_q3fy2026", "NVDA", "inventory", 19784, "USD m", "2025-10-26",
             "NVIDIA inventories, end of Q3 FY2026", _TITAN_NVDA, "S"),
        _day("nvda_receivables_q3fy2026", "NVDA", "receivables", 33400, "USD m", "2025-10-26",
             "NVIDIA accounts receivable, end of Q3 FY2026 (33.4bn)",
             f"{_WSW_NVDA} ; {_MICROCAP_DSO}", "S"),
        _fig("nvda_dso_fy2020_2024_avg", "NVDA", "dso_average", 46, "days", "2019-01-28",
             "2024-01-28", "NVIDIA days sales outstanding, FY2020-24 average", _MICROCAP_DSO, "S"),
        _day("nvda_dso_q3fy2026", "NVDA", "dso", 53, "days", "2025-10-26",
             "NVIDIA days sales outstanding, Q3 FY2026", _MICROCAP_DSO, "S"),
        _fig("nvda_h20_charge_q1fy2026", "NVDA", "inventory_charge", 4500, "USD m",
             *NVDA_Q["FY26Q1"], "H20 excess-inventory and purchase-obligation charge (1.9bn of it "
             "inventory provision)", _NV_H20, "P"),
        # DeepSeek shock
        _day("nvda_close_2025_01_24", "NVDA", "close", 142.62, "USD/share", "2025-01-24",
             "NVIDIA close before the DeepSeek shock", _EPOCH_DEEPSEEK, "S"),
        _day("nvda_close_2025_01_27", "NVDA", "close", 118.42, "USD/share", "2025-01-27",
             "NVIDIA close on the DeepSeek shock day", _LBKRS_DEEPSEEK, "S"),
        _day("nvda_deepseek_change", "NVDA", "return_1d", (118.42 / 142.62 - 1) * 100, "%",
             "2025-01-27", "NVIDIA one-day change on 2025-01-27",
             "118.42/142.62 - 1: nvda_close_2025_01_27, nvda_close_2025_01_24", "C"),
        _day("nvda_deepseek_value_lost", "NVDA", "market_value_change_1d", -589000, "USD m",
             "2025-01-27", "NVIDIA market value lost on 2025-01-27 (record for a US company)",
             _LBKRS_DEEPSEEK, "S"),
        _day("nvda_pe_trailing_2025_02_15", "NVDA", "pe_cited", 54.83, "x", "2025-02-15",
             "NVIDIA trailing P/E (forward 35.45)", _AINVEST_PE, "S"),
        _day("nvda_close_record_2025_06_25", "NVDA", "close", 154.31, "USD/share", "2025-06-25",
             "NVIDIA record close", "https://marketnewsdata.com/2025/06/"
             "nvidia-regains-its-lost-glory-should-you-buy-on-the-dip-and-hold", "S"),
        _fig("nvda_eps_ttm_q1fy2026", "NVDA", "eps_diluted_ttm", 3.10, "USD/share",
             "2024-04-29", "2025-04-27", "Trailing-4Q GAAP diluted EPS at the end of Q1 FY26 "
             "(0.67 + 0.78 + 0.89 + 0.76)", "sum of quarterly GAAP diluted EPS from the 10-Q and "
             "press-release rows of FACTS.md §11", "C"),
        _day("nvda_pe_2025_06_25", "NVDA", "pe_trailing", 154.31 / 3.10, "x", "2025-06-25",
             "NVIDIA trailing P/E at the 2025-06-25 close",
             "154.31 / 3.10: nvda_close_record_2025_06_25, nvda_eps_ttm_q1fy2026", "C"),
    ]
    return rows


def _ai_cycle_rows() -> list[dict[str, Any]]:
    rows = [
        # CoreWeave
        _day("crwv_ipo_price", "CRWV", "ipo_price", 40.0, "USD/share", "2025-03-27",
             "CoreWeave IPO price (range had been 47-55)", _CRWV_424B4, "P"),
        _day("crwv_nvidia_anchor_order", "CRWV", "nvidia_ipo_order", 250, "USD m", "2025-03-27",
             "NVIDIA anchor order in the CoreWeave IPO", f"{_CRWV_REUTERS} ; {_CRWV_ITIGER}", "S"),
        _day("crwv_ipo_valuation", "CRWV", "market_cap", 23000, "USD m", "2025-03-27",
             "CoreWeave valuation at the IPO price, fully diluted (~23bn)", _CRWV_REUTERS, "S"),
        _fig("crwv_revenue_2022", "CRWV", "revenue", 16, "USD m", *_cy(2022),
             "CoreWeave revenue 2022 (pure-play AI cloud)", _CRWV_ITIGER, "S"),
        _fig("crwv_revenue_2023", "CRWV", "revenue", 228.9, "USD m", *_cy(2023),
             "CoreWeave revenue 2023 (pure-play AI cloud)", _CRWV_ITIGER, "S"),
        _fig("crwv_revenue_2024", "CRWV", "revenue", 1900, "USD m", *_cy(2024),
             "CoreWeave revenue 2024 (~1.9bn, +737%)", _CRWV_ITIGER, "S"),
        _fig("crwv_revenue_q1_2025", "CRWV", "revenue", 981.6, "USD m", "2025-01-01",
             "2025-03-31", "CoreWeave revenue Q1 2025", _CRWV_Q1, "S"),
        _fig("crwv_revenue_q2_2025", "CRWV", "revenue", 1212.8, "USD m", "2025-04-01",
             "2025-06-30", "CoreWeave revenue Q2 2025", _CRWV_Q2, "P"),
        _fig("crwv_net_loss_q1_2025", "CRWV", "net_income", -314.6, "USD m", "2025-01-01",
             "2025-03-31", "CoreWeave net loss Q1 2025", _CRWV_Q1, "S"),
        _fig("crwv_net_loss_q2_2025", "CRWV", "net_income", -290.5, "USD m", "2025-04-01",
             "2025-06-30", "CoreWeave net loss Q2 2025", _CRWV_Q2, "P"),
        _day("crwv_total_debt_2025_03_31", "CRWV", "total_debt", 8800, "USD m", "2025-03-31",
             "CoreWeave total debt obligations", _CRWV_Q1, "S"),
        _day("crwv_backlog_2025_03_31", "CRWV", "backlog", 25900, "USD m", "2025-03-31",
             "CoreWeave backlog (RPO 14.7bn + committed contracts 11.2bn)",
             "https://ipcarrier.blogspot.com/search?max-results=7&updated-max=2025-05-17T06%3A16%3A00-06%3A00",
             "S"),
        _day("crwv_nvidia_capacity_order", "CRWV", "nvidia_capacity_order", 6300, "USD m",
             "2025-09-30", "NVIDIA order for CoreWeave's unsold capacity through 2032 (>= 6.3bn; "
             "disclosed Sept 2025)", _CRWV_NV_ORDER, "S"),
        _day("crwv_nvidia_investment_2026", "CRWV", "nvidia_investment", 2000, "USD m",
             "2026-01-26", "NVIDIA additional investment in CoreWeave at $87.20/share",
             "https://trendinginfo.blog/?p=26523", "S"),
        _day("crwv_openai_contracts_total", "CRWV", "openai_contracts", 22400, "USD m",
             "2025-09-25", "OpenAI contracts with CoreWeave, total", "https://news.anyfans.com/?p=71359",
             "S"),
        # circular deals
        _day("stargate_announced", "OpenAI", "stargate_commitment", 500000, "USD m",
             "2025-01-21", "Stargate (SoftBank, OpenAI, Oracle, MGX): up to 500bn over 4 years",
             _STARGATE, "S"),
        _day("nvda_openai_loi", "NVDA", "openai_investment_loi", 100000, "USD m", "2025-09-22",
             "NVIDIA-OpenAI letter of intent: up to 100bn, >= 10 GW",
             "https://www.capacitymedia.com/article/nvidia-and-openai-sign-100bn-deal", "S"),
        _day("orcl_openai_contract", "ORCL", "openai_contract_reported", 300000, "USD m",
             "2025-09-10", "Oracle-OpenAI compute contract reported by the WSJ (~300bn over ~5y)",
             "https://nairametrics.com/2025/09/10/"
             "openai-signs-300-billion-cloud-computing-deal-with-oracle/", "S"),
        _day("openai_softbank_round", "OpenAI", "funding_round", 40000, "USD m", "2025-03-31",
             "SoftBank-led OpenAI round at a 300bn post-money valuation",
             "https://www.hindustantimes.com/business/openai-finalises-40-billion-funding-from-"
             "masayoshi-sons-softbank-valuation-almost-doubles-to-300-billion-101743473840505.html",
             "S"),
        # Sequoia's $600B question
        _day("sequoia_required_revenue_2023", "Sequoia", "required_ai_revenue", 200000, "USD m",
             "2023-09-20", "Sequoia 'AI's $200B question': required AI revenue",
             _SEQUOIA_S, "S"),
        _day("sequoia_dc_run_rate_2023", "Sequoia", "nvda_dc_run_rate", 50000, "USD m",
             "2023-09-20", "Sequoia 2023 input: Q4-2023 DC revenue estimate x 4", _SEQUOIA_S, "S"),
        _day("sequoia_hole_2023", "Sequoia", "revenue_gap", 125000, "USD m", "2023-09-20",
             "Sequoia 2023: the 'hole' per year of capex", _SEQUOIA, "P"),
        _day("sequoia_dc_run_rate_2024", "Sequoia", "nvda_dc_run_rate", 150000, "USD m",
             "2024-06-20", "Sequoia 2024 input: NVIDIA DC run-rate forecast at end of Q4 (~150bn)",
             _SEQUOIA_S, "S"),
        _day("sequoia_required_revenue_2024", "Sequoia", "required_ai_revenue", 600000, "USD m",
             "2024-06-20", "Sequoia 'AI's $600B question': required AI revenue = run-rate x 2 x 2",
             "150,000 x 2 x 2: sequoia_dc_run_rate_2024 (method: " + _SEQUOIA + ")", "C"),
        _day("sequoia_gap_2024", "Sequoia", "revenue_gap", 500000, "USD m", "2024-06-20",
             "Sequoia 2024: gap after generous AI-revenue assumptions (~500bn)", _SEQUOIA_GAP,
             "S"),
        _day("sequoia_implied_ai_revenue_2024", "Sequoia", "assumed_ai_revenue", 100000, "USD m",
             "2024-06-20", "AI revenue implied by Sequoia's generous 2024 assumptions",
             "600,000 - 500,000: sequoia_required_revenue_2024, sequoia_gap_2024", "C"),
        # Greenwood-Shleifer-You base rates
        _fig("gsy_crash_prob_runup_50", "GSY", "crash_probability_after_runup_50", 20, "%",
             "1928-01-01", "2014-12-31",
             "Probability of a crash (40% drawdown) within 2 years after a 50% two-year "
             "industry run-up (Greenwood, Shleifer & You, NBER WP 23191)",
             f"{_GSY_SUMMARY} (summary of {_GSY_PAPER})", "S"),
        _fig("gsy_crash_prob_runup_100", "GSY", "crash_probability_after_runup_100", 53, "%",
             "1928-01-01", "2014-12-31",
             "Probability of a crash within 2 years after a 100% two-year industry run-up",
             f"{_GSY_SUMMARY} (summary of {_GSY_PAPER})", "S"),
        _fig("gsy_crash_prob_runup_150", "GSY", "crash_probability_after_runup_150", 80, "%",
             "1928-01-01", "2014-12-31",
             "Probability of a crash within 2 years after a 150% two-year industry run-up",
             f"{_GSY_SUMMARY} (summary of {_GSY_PAPER})", "S"),
        _fig("gsy_episodes", "GSY", "runup_episodes", 40, "count", "1928-01-01", "2014-12-31",
             "US industry run-up episodes (>= 100%) identified since 1928", _GSY_SUMMARY, "S"),
        _fig("gsy_episodes_crashed", "GSY", "runup_episodes_crashed", 21, "count", "1928-01-01",
             "2014-12-31", "Of those episodes, how many crashed", _GSY_SUMMARY, "S"),
    ]
    return rows


def _hyperscaler_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    googl = {2019: 23548, 2020: 22281, 2021: 24640, 2022: 31485, 2023: 32251, 2024: 52535}
    for y, v in googl.items():
        rows.append(_fig(f"googl_capex_{y}", "GOOGL", "capex", v, "USD m", *_cy(y),
                         f"Alphabet purchases of property and equipment {y}", _SA_GOOGL, "S"))
    rows.append(_fig("googl_capex_2025", "GOOGL", "capex", 91447, "USD m", *_cy(2025),
                     "Alphabet purchases of property and equipment 2025",
                     "https://royfactory.net/posts/ai/202602/alphabet-2026-capex", "S"))
    rows.append(_fig("amzn_capex_2019", "AMZN", "capex", 16861, "USD m", *_cy(2019),
                     "Amazon purchases of property and equipment 2019", _BW_CSV, "S"))
    for y, v in {2020: 40140, 2021: 61053, 2022: 63645, 2023: 52729, 2024: 82999}.items():
        rows.append(_fig(f"amzn_capex_{y}", "AMZN", "capex", v, "USD m", *_cy(y),
                         f"Amazon purchases of property and equipment {y} (gross)", _SA_AMZN, "S"))
    rows.append(_fig("amzn_capex_2025", "AMZN", "capex", 131819, "USD m", *_cy(2025),
                     "Amazon purchases of property and equipment 2025", _GH_57935862137,
                     "S-weak"))
    rows.append(_fig("meta_capex_2019", "META", "capex", 15102, "USD m", *_cy(2019),
                     "Meta purchases of property and equipment 2019", _GH_57935862137, "S-weak"))
    for y, v in {2022: 31186, 2023: 27045, 2024: 37256}.items():
        rows.append(_fig(f"meta_capex_{y}", "META", "capex", v, "USD m", *_cy(y),
                         f"Meta purchases of property and equipment {y}", _SA_META, "S"))
    rows.append(_fig("meta_capex_2025", "META", "capex", 69691, "USD m", *_cy(2025),
                     "Meta purchases of property and equipment 2025 (excl. finance leases)",
                     _GH_57935862137, "S-weak"))
    for y, v in {2019: 13925, 2020: 15441}.items():
        rows.append(_fig(f"msft_capex_fy{y}", "MSFT", "capex", v, "USD m", *MSFT_FY[y],
                         f"Microsoft additions to property and equipment FY{y}", _GH_57935862137,
                         "S-weak"))
    for y, v in {2021: 20622, 2022: 23886, 2023: 28107, 2024: 44477, 2025: 64551}.items():
        rows.append(_fig(f"msft_capex_fy{y}", "MSFT", "capex", v, "USD m", *MSFT_FY[y],
                         f"Microsoft additions to property and equipment FY{y}", _SA_MSFT, "S"))
    rows.append(_fig("orcl_capex_fy2024", "ORCL", "capex", 6870, "USD m", *ORCL_FY[2024],
                     "Oracle capex FY2024", _ORCL_CAPEX, "S"))
    rows.append(_fig("orcl_capex_fy2025", "ORCL", "capex", 21210, "USD m", *ORCL_FY[2025],
                     "Oracle capex FY2025 (record; first negative FCF since 1990)", _ORCL_CAPEX,
                     "S"))
    quarterly = {
        "GOOGL": {2023: (6289, 6888, 8055, 11019), 2024: (12012, 13186, 13061, 14276),
                  2025: (17197, 22446, 23953, 27851)},
        "AMZN": {2023: (14207, 11455, 12479, 14588), 2024: (14925, 17620, 22620, 27834),
                 2025: (25019, 32183, 35095, 39522)},
    }
    q_bounds = [("01-01", "03-31"), ("04-01", "06-30"), ("07-01", "09-30"), ("10-01", "12-31")]
    for sym, years in quarterly.items():
        for y, vals in years.items():
            for i, v in enumerate(vals):
                s, e = q_bounds[i]
                if i < 3:
                    src, tag = _BW_CSV, "S"
                else:
                    src = (f"FY {y} minus first nine months: {sym.lower()}_capex_{y} - "
                           f"({' + '.join(str(x) for x in vals[:3])})")
                    tag = "C"
                rows.append(_fig(f"{sym.lower()}_capex_{y}q{i + 1}", sym, "capex_quarter", v,
                                 "USD m", f"{y}-{s}", f"{y}-{e}",
                                 f"{sym} purchases of property and equipment Q{i + 1} {y}", src,
                                 tag))
    return rows


def reference_figures() -> list[dict[str, Any]]:
    """Every built-in reference figure (see the module docstring)."""
    return (_cisco_rows() + _nasdaq_rows() + _telecom_rows() + _nvidia_rows()
            + _ai_cycle_rows() + _hyperscaler_rows())


def _ev(key: str, day: str, title: str, era: str, description: str, source: str) -> dict[str, Any]:
    return {"key": key, "date": date.fromisoformat(day), "title": title, "era": era,
            "description": description, "source": source}


def reference_events() -> list[dict[str, Any]]:
    """Dated events used as analog anchors and chart notes (``era`` is
    ``"dotcom"`` or ``"ai"``)."""
    return [
        _ev("netscape_ipo", "1995-08-09", "Netscape IPO", "dotcom",
            "Netscape shares priced at $28 open near $71, close at $58: the start of the "
            "internet boom.",
            "http://fortune.com/2015/08/09/remembering-netscape/ ; "
            "https://www.npr.org/templates/story/story.php?storyId=4792365"),
        _ev("irrational_exuberance", "1996-12-05", "Greenspan: 'irrational exuberance'", "dotcom",
            "Fed chairman Alan Greenspan asks how we know when irrational exuberance has unduly "
            "escalated asset values (AEI dinner speech).",
            "https://www.federalreserve.gov/boarddocs/speeches/1996/19961205.htm ; "
            "https://www.cnbc.com/2015/12/05/alan-greenspan-made-history-19-years-ago-with-this.html"),
        _ev("nasdaq_peak", "2000-03-10", "Nasdaq Composite peaks at 5,048.62", "dotcom",
            "Record close of the dot-com era.", f"{_LIQUI} ; {_PIGLIX}"),
        _ev("cisco_peak", "2000-03-27", "Cisco record close $80.06", "dotcom",
            "Cisco, briefly the world's most valuable company (> $550bn), closes at its "
            "dot-com high.", _CSCO_PEAK),
        _ev("cisco_writedown", "2001-04-16", "Cisco warns: ~$2.5bn inventory charge", "dotcom",
            "Cisco announces an excess-inventory charge of about $2.5bn, restructuring and "
            "~8,500 job cuts; Q3 FY2001 revenue seen ~30% lower q/q.", _CSCO_PR_2001),
        _ev("nasdaq_trough", "2002-10-09", "Nasdaq bear-market low 1,114.11", "dotcom",
            "The Nasdaq Composite closes 77.9% below its March 2000 record.", _LIQUI),
        _ev("export_controls_2022", "2022-10-07", "US export controls on advanced AI chips", "ai",
            "BIS restricts exports of advanced computing chips and chip-making equipment to "
            "China.",
            "https://bis.gov/press-release/commerce-implements-new-export-controls-advanced-"
            "computing-and-semiconductor"),
        _ev("chatgpt", "2022-11-30", "ChatGPT launched", "ai",
            "OpenAI releases ChatGPT as a free research preview; one million users in five days.",
            "https://openai.com/blog/chatgpt ; "
            "https://www.alansalomon.ai/ai-museum/artifacts/chatgpt-launch"),
        _ev("nvda_guidance_2023", "2023-05-24", "NVIDIA guides Q2 FY24 revenue to ~$11bn", "ai",
            "After the close NVIDIA forecasts ~$11bn (+/-2%) against ~$7.2bn expected; the "
            "shares jump ~25% on 2023-05-25.",
            "https://www.nasdaq.com/articles/nvidia-forecasts-second-quarter-revenue-above-"
            "estimates ; https://www.fool.com/investing/2023/05/26/nvidias-ai-opportunity-is-"
            "shocking-wall-street/"),
        _ev("export_controls_2023", "2023-10-17", "US export controls tightened", "ai",
            "BIS updates the October 2022 rules (performance-density threshold, wider licence "
            "requirements).",
            "https://siastes.com/bis-releases-new-rules-updating-restrictions-on-advanced-"
            "computing-chips-manufacturing-equipment-and-supercomputing-items-to-countries-of-"
            "concern-export-controls-trade-investment-sanct/"),
        _ev("ai_diffusion_rule", "2025-01-13", "AI diffusion rule", "ai",
            "BIS releases the Interim Final Rule on Artificial Intelligence Diffusion (tiered "
            "country caps on AI chips, controls on model weights); rescinded 2025-05-13.",
            "https://ambartlaw.com/ai-law-blog/interim-final-rule-on-ai-diffusion ; "
            "https://alstontrade.com/commerce-rescinds-ai-diffusion-rule-releases-other-guidance-"
            "involving-overseas-ai-chips"),
        _ev("stargate", "2025-01-21", "Stargate announced", "ai",
            "SoftBank, OpenAI, Oracle and MGX announce up to $500bn of AI infrastructure over "
            "four years.", _STARGATE),
        _ev("deepseek_shock", "2025-01-27", "DeepSeek shock", "ai",
            "A low-cost open model from DeepSeek sends NVIDIA down ~17% in a day (~$589bn of "
            "market value, a US record).", _LBKRS_DEEPSEEK),
        _ev("coreweave_ipo", "2025-03-28", "CoreWeave IPO", "ai",
            "CoreWeave lists at $40 (priced 2025-03-27), anchored by a $250m NVIDIA order.",
            f"{_CRWV_424B4} ; {_CRWV_REUTERS}"),
        _ev("h20_licence", "2025-04-15", "H20 export licence requirement", "ai",
            "NVIDIA discloses (8-K) that the US government told it on 2025-04-09 that H20 "
            "exports to China need a licence; ~$5.5bn of charges expected.",
            "https://www.tomshardware.com/tech-industry/artificial-intelligence/nvidia-writes-off-"
            "usd5-5-billion-in-gpus-as-us-govt-chokes-off-supply-of-h20s-to-china ; "
            "https://www.nbcsandiego.com/news/business/money-report/nvidia-says-it-will-record-5-5-"
            "billion-quarterly-charge-tied-to-h20-processors-exported-to-china/3804789/"),
    ]


def reference_rows() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(figures, events)`` rows for :func:`db.repo.upsert_reference`."""
    return reference_figures(), reference_events()


def reference_frames() -> tuple[Any, Any]:
    """The built-in tables as DataFrames shaped like :func:`db.repo.reference_frame`
    and :func:`db.repo.events_frame` (for :class:`~indicators.frame_source.FrameSource`)."""
    import pandas as pd

    figures, events = reference_rows()
    return pd.DataFrame(figures), pd.DataFrame(events)
