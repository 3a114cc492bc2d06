"""Trading sessions of an exchange, and times written for people.

Data age is counted in trading sessions of the exchange a price comes from,
not in calendar or business days: a Friday close read on Sunday is current,
and the Friday after Thanksgiving follows Wednesday's close by one session.
Sessions, holidays, early closes and close times come from the
``exchange_calendars`` package (the calendars of zipline's successors, kept by
its maintainers; codes are ISO 10383 MICs such as ``XNYS``, ``XNAS``,
``XLON``). The US listings of the default universe all follow the NYSE
calendar (``XNYS``): Nasdaq closes on the same holidays.

Every time shown to people carries its time zone (:func:`format_time`).

References
----------
exchange_calendars, https://github.com/gerrymanoim/exchange_calendars
(holiday rules per exchange, from the exchanges' own notices).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bubblewatch.core.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np

#: Exchange of an instrument whose exchange is not given (US listings).
DEFAULT_EXCHANGE = "XNYS"

#: Calendars are built from this year on at the least (earlier when asked).
_EARLIEST_DEFAULT_YEAR = 1990


def aware(when: datetime) -> datetime:
    """``when`` as a timezone-aware time (a naive one is taken as UTC)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def format_time(when: datetime | None, tz: str = "UTC") -> str:
    """``2026-11-29 11:23 UTC``; in another zone ``2026-11-30 17:30 EST``
    (the zone's abbreviation); ``never`` for None. Naive times are UTC."""
    if when is None:
        return "never"
    local = aware(when).astimezone(ZoneInfo(tz))
    return f"{local:%Y-%m-%d %H:%M} {'UTC' if tz == 'UTC' else local.tzname()}"


@dataclass(frozen=True, slots=True)
class Sessions:
    """The sessions of one exchange over a span of years.

    Attributes
    ----------
    exchange
        Exchange code (``XNYS``).
    days
        Session dates, ascending (``datetime64[D]``).
    closes
        Close of each session (``datetime64[ns]``, UTC), early closes included.
    """

    exchange: str
    days: np.ndarray
    closes: np.ndarray

    def last_closed(self, now: datetime) -> date:
        """The newest session whose close is at or before ``now``: the
        trading day whose data can exist at ``now``.

        Raises
        ------
        ValueError
            If ``now`` lies before the first session held.
        """
        import numpy as np

        t = np.datetime64(aware(now).astimezone(UTC).replace(tzinfo=None), "ns")
        i = int(np.searchsorted(self.closes, t, side="right")) - 1
        if i < 0:
            raise ValueError(f"{now:%Y-%m-%d %H:%M} is before the first {self.exchange} session "
                             "held")
        return _to_date(self.days[i])

    def count_after(self, start: date, end: date) -> int:
        """Sessions after ``start`` up to and including ``end`` (0 when
        ``end <= start``): how many sessions data ending on ``start`` lacks
        to reach ``end``. ``start`` need not be a session."""
        import numpy as np

        if end <= start:
            return 0
        lo = np.searchsorted(self.days, np.datetime64(start, "D"), side="right")
        hi = np.searchsorted(self.days, np.datetime64(end, "D"), side="right")
        return int(hi - lo)

    def is_session(self, day: date) -> bool:
        import numpy as np

        i = int(np.searchsorted(self.days, np.datetime64(day, "D")))
        return i < len(self.days) and _to_date(self.days[i]) == day


def _to_date(d: np.datetime64) -> date:
    return date.fromisoformat(str(d)[:10])


def sessions(exchange: str, since: date | None = None, until: date | None = None) -> Sessions:
    """The sessions of ``exchange`` covering ``since`` (default 1990) to
    ``until`` (default a year from today), built once per span of years.

    Raises
    ------
    ConfigError
        If ``exchange_calendars`` has no calendar of that code.
    """
    first = min(since.year if since else _EARLIEST_DEFAULT_YEAR, _EARLIEST_DEFAULT_YEAR)
    today = datetime.now(UTC).date()
    last = max((until or today).year, today.year) + 1
    return _build(exchange.upper(), first, last)


@lru_cache(maxsize=16)
def _build(exchange: str, first_year: int, last_year: int) -> Sessions:
    import exchange_calendars as xc
    import numpy as np

    if exchange not in xc.get_calendar_names(include_aliases=True):
        names = xc.get_calendar_names(include_aliases=False)
        known = ", ".join(n for n in sorted(names) if n.startswith("X"))[:400]
        raise ConfigError(f"unknown exchange {exchange!r}: use the ISO 10383 code of an "
                          f"exchange_calendars calendar (XNYS for US listings), e.g. {known}")
    with warnings.catch_warnings():
        # exchange_calendars 4.x reads tz-aware Series.values, deprecated in pandas 3
        warnings.simplefilter("ignore", DeprecationWarning)
        cal = xc.get_calendar(exchange, start=date(first_year, 1, 1),
                              end=date(last_year, 12, 31) - timedelta(days=7))
    closes = cal.closes
    return Sessions(
        exchange=exchange,
        days=np.asarray(closes.index.values, dtype="datetime64[D]"),
        closes=np.asarray(closes.dt.tz_convert("UTC").dt.tz_localize(None).values,
                          dtype="datetime64[ns]"),
    )
