"""Coverage of aggregates: which members an aggregate (a basket, the
hyperscalers' capex total, reported AI revenue) holds on a date, said in words.

Every aggregate stores its coverage as data (``n_members`` and ``coverage``,
the share of its declared members, per date) and names its members in its
metadata (:class:`MemberSpan` per member). A partial aggregate is labelled as
such wherever it is shown, with :func:`coverage_label`::

    Alphabet only: 1 of 5 hyperscalers
    Alphabet, Microsoft: 2 of 5 hyperscalers (no data for Amazon, Meta, Oracle)
    all 5 hyperscalers
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from bubblewatch.core.universe import Universe


class MemberSpan(BaseModel):
    """The dates an aggregate holds one member (None: the member has no data)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    first: date | None = None
    last: date | None = None


def short_name(symbol: str, universe: Universe | None = None) -> str:
    """A company's name without the parenthesis (``"Alphabet (class A)"`` ->
    ``"Alphabet"``), from ``universe`` or the default universe; the symbol when
    neither knows it."""
    from bubblewatch.core.universe import default_universe

    for u in (universe, default_universe()):
        if u is None:
            continue
        try:
            name = u.get(symbol).name
        except KeyError:
            continue
        return re.sub(r"\s*\(.*?\)\s*", " ", name).strip() or symbol
    return symbol


def coverage_label(covered: Sequence[str], members: Sequence[str], group: str,
                   universe: Universe | None = None) -> str:
    """Which of ``members`` an aggregate covers, in words.

    Parameters
    ----------
    covered
        Members with data in the aggregate (any order; unknown ones ignored).
    members
        The aggregate's declared members.
    group
        Plural noun for the members ("hyperscalers", "basket members").
    universe
        Where the companies' names come from (default universe otherwise).

    Examples
    --------
    ``coverage_label(["GOOGL"], ["MSFT", "GOOGL", "AMZN", "META", "ORCL"], "hyperscalers")``
    is ``"Alphabet only: 1 of 5 hyperscalers"``.
    """
    inside = [m for m in members if m in set(covered)]
    outside = [m for m in members if m not in set(covered)]
    n, total = len(inside), len(members)
    names = [short_name(m, universe) for m in inside]
    if total == 0:
        return f"no {group} declared"
    if n == 0:
        return f"no data: 0 of {total} {group}"
    if n == total:
        return f"all {total} {group}" if total > 1 else f"{names[0]} (1 of 1 {group})"
    if n == 1:
        return f"{names[0]} only: 1 of {total} {group}"
    missing = ", ".join(short_name(m, universe) for m in outside)
    return f"{', '.join(names)}: {n} of {total} {group} (no data for {missing})"
