"""Which XBRL concepts carry each fundamental metric.

Companies tag the same line differently, and change tags over time: NVIDIA
reported capex as ``PaymentsToAcquirePropertyPlantAndEquipment`` until 2020
and as ``PaymentsToAcquireProductiveAssets`` (property, equipment *and*
intangibles) since. Each metric lists its candidate concepts in priority
order, and priority means priority: for every period :mod:`ingest.pit` uses
the first concept of the list that has a figure filed by the day asked about,
whichever was filed more recently. A period known only under a later concept
uses it; if a preferred concept's figure for that period is filed later, it
replaces the other from its filing day on (the period keeps the day it was
first known). Quarters derived from two concepts that disagree elsewhere are
flagged with a ``DataQualityWarning``.

``nonnegative`` metrics (revenue, capex, balances, share counts) cannot be
negative: a negative quarter means a bad component and is flagged too.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Metric:
    """A fundamental metric.

    ``kind`` is ``"flow"`` (reported over a period; quarters are derived from
    year-to-date figures), ``"average"`` (an average over a period, such as
    weighted shares: only directly reported quarters are used, never
    differences) or ``"stock"`` (a balance at an instant).
    ``concepts`` are ``taxonomy:Concept`` names in priority order.
    """

    name: str
    kind: str
    unit: str
    concepts: tuple[str, ...]
    description: str
    nonnegative: bool = True


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(
            "revenue", "flow", "USD",
            (
                "us-gaap:Revenues",
                "us-gaap:RevenueFromContractWithCustomerExcludingAssessedTax",
                "us-gaap:SalesRevenueNet",
                "us-gaap:RevenueFromContractWithCustomerIncludingAssessedTax",
                "us-gaap:SalesRevenueGoodsNet",
            ),
            "Total revenue (net sales), USD",
        ),
        Metric(
            "capex", "flow", "USD",
            (
                "us-gaap:PaymentsToAcquirePropertyPlantAndEquipment",
                "us-gaap:PaymentsToAcquireProductiveAssets",
                "us-gaap:PaymentsForCapitalImprovements",
                "us-gaap:PaymentsToAcquireOtherPropertyPlantAndEquipment",
            ),
            "Capital expenditure: cash paid for property and equipment (and, where the "
            "company reports them together, intangibles), USD",
        ),
        Metric(
            "cost_of_revenue", "flow", "USD",
            (
                "us-gaap:CostOfRevenue",
                "us-gaap:CostOfGoodsAndServicesSold",
                "us-gaap:CostOfGoodsSold",
            ),
            "Cost of revenue (cost of goods and services sold), USD",
        ),
        Metric(
            "net_income", "flow", "USD",
            ("us-gaap:NetIncomeLoss", "us-gaap:ProfitLoss",
             "us-gaap:NetIncomeLossAvailableToCommonStockholdersBasic"),
            "Net income attributable to the company, USD", nonnegative=False,
        ),
        Metric(
            "operating_cash_flow", "flow", "USD",
            ("us-gaap:NetCashProvidedByUsedInOperatingActivities",
             "us-gaap:NetCashProvidedByUsedInOperatingActivitiesContinuingOperations"),
            "Net cash from operating activities, USD", nonnegative=False,
        ),
        Metric(
            "receivables", "stock", "USD",
            ("us-gaap:AccountsReceivableNetCurrent", "us-gaap:ReceivablesNetCurrent",
             "us-gaap:AccountsNotesAndLoansReceivableNetCurrent"),
            "Accounts receivable, net, current, USD",
        ),
        Metric(
            "inventory", "stock", "USD",
            ("us-gaap:InventoryNet", "us-gaap:InventoryGross"),
            "Inventories, net, USD",
        ),
        Metric(
            "shares_outstanding", "stock", "shares",
            ("dei:EntityCommonStockSharesOutstanding", "us-gaap:CommonStockSharesOutstanding"),
            "Common shares outstanding (cover page count where filed), shares",
        ),
        Metric(
            "diluted_shares", "average", "shares",
            ("us-gaap:WeightedAverageNumberOfDilutedSharesOutstanding",),
            "Weighted-average diluted shares over the period, shares",
        ),
    )
}

#: Every concept any metric may use (what the EDGAR ingest keeps by default
#: is every us-gaap and dei fact; this set is for quick filtering).
ALL_CONCEPTS: frozenset[str] = frozenset(c for m in METRICS.values() for c in m.concepts)


def metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}") from None


def split_concept(qualified: str) -> tuple[str, str]:
    """``"us-gaap:Revenues"`` -> ``("us-gaap", "Revenues")``."""
    taxonomy, _, concept = qualified.partition(":")
    return taxonomy, concept
