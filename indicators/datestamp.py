"""Date-stamping of explosive episodes (Phillips, Shi & Yu 2015).

An episode is a run of consecutive observations at which the BSADF statistic
(``option="gsadf"``) or the BADF statistic (``option="sadf"``) exceeds its
critical value at ``sig_level``, kept when it lasts at least ``min_duration``
observations (default the "log(T)" rule ``round(log(n))``,
:func:`~indicators.psy.psy_min_duration`). Conventions follow exuber's
``datestamp()``:

* ``start`` is the first observation above the critical value, ``end`` the
  first one back at or below it (so ``duration = end - start`` observations);
  an episode still above at the last observation is ``ongoing`` with
  ``end=None``.
* ``peak`` is the observation with the largest statistic in the episode.
* ``kind`` is ``"positive"`` when the series is at least as high at the peak
  as at the start (a bubble) and ``"negative"`` when it is lower (a collapse,
  explosive downward movement), the sign rule of exuber's R ``datestamp``.
* With Monte Carlo critical values only a series whose overall statistic
  (GSADF or SADF) rejects the null at ``sig_level`` is date-stamped, as in
  exuber. With the wild bootstrap of Phillips & Shi (2020) the BSADF critical
  value already controls the family-wise size over its ``tb`` window, so the
  sequence is compared directly. ``require_rejection`` overrides either.

References
----------
Phillips, P. C. B., Shi, S. & Yu, J. (2015). Testing for multiple bubbles:
Historical episodes of exuberance and collapse in the S&P 500. *International
Economic Review*, 56(4), 1043-1078.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from indicators.psy import RadfResult, psy_min_duration

if TYPE_CHECKING:
    import pandas as pd

    from indicators.cv import CriticalValues

__all__ = ["Datestamp", "Episode", "datestamp", "episodes_from_mask"]


@dataclass(frozen=True, slots=True)
class Episode:
    """One explosive episode. Positions index :attr:`RadfResult.series`;
    labels are the matching dates (or the positions when there is no index).

    ``duration`` counts observations above the critical value; ``end`` is
    the first observation back below it (None while ``ongoing``).
    """

    kind: Literal["positive", "negative"]
    start: int
    peak: int
    end: int | None
    duration: int
    ongoing: bool
    peak_stat: float
    start_label: Hashable
    peak_label: Hashable
    end_label: Hashable | None


@dataclass(frozen=True, slots=True)
class Datestamp:
    """Result of :func:`datestamp`."""

    episodes: tuple[Episode, ...]
    option: Literal["gsadf", "sadf"]
    sig_level: float
    min_duration: int
    rejected: bool
    statistic: float
    critical_value: float

    @property
    def positive(self) -> tuple[Episode, ...]:
        return tuple(e for e in self.episodes if e.kind == "positive")

    @property
    def negative(self) -> tuple[Episode, ...]:
        return tuple(e for e in self.episodes if e.kind == "negative")

    def to_frame(self) -> pd.DataFrame:
        """One row per episode: kind, start, peak, end, duration, ongoing, peak_stat."""
        import pandas as pd

        cols = ["kind", "start", "peak", "end", "duration", "ongoing", "peak_stat"]
        rows = [
            (e.kind, e.start_label, e.peak_label, e.end_label, e.duration, e.ongoing,
             e.peak_stat)
            for e in self.episodes
        ]
        return pd.DataFrame(rows, columns=cols)

    def summary(self) -> str:
        stat = "GSADF" if self.option == "gsadf" else "SADF"
        verdict = "rejects" if self.rejected else "does not reject"
        lines = [
            (f"{stat} = {self.statistic:.4f} {verdict} the unit-root null at "
             f"{self.sig_level:.0%} (critical value {self.critical_value:.4f}); "
             f"min_duration = {self.min_duration}"),
        ]
        if not self.episodes:
            lines.append("  no episodes")
        for e in self.episodes:
            end = "ongoing" if e.ongoing else _fmt(e.end_label)
            lines.append(
                f"  {e.kind:<8} {_fmt(e.start_label)} -> {end:<10}  peak {_fmt(e.peak_label)} "
                f"(stat {e.peak_stat:.2f}), {e.duration} obs"
            )
        return "\n".join(lines)


def datestamp(
    result: RadfResult,
    cv: CriticalValues,
    *,
    sig_level: float = 0.95,
    min_duration: int | None = None,
    option: Literal["gsadf", "sadf"] = "gsadf",
    require_rejection: bool | None = None,
) -> Datestamp:
    """Episodes in which the BSADF (or BADF) sequence exceeds its critical value.

    Parameters
    ----------
    result
        Output of :func:`~indicators.psy.radf`.
    cv
        Critical values for the same ``n``, ``min_window``, ``lag`` and ``ic``.
    sig_level
        0.90, 0.95 or 0.99 (or 90, 95, 99).
    min_duration
        Shortest episode kept, in observations; default ``round(log(n))``.
    option
        ``"gsadf"`` (BSADF sequence, PSY) or ``"sadf"`` (BADF sequence, PWY).
    require_rejection
        Only date-stamp when the overall statistic rejects at ``sig_level``.
        Default: True for Monte Carlo, False for wild-bootstrap critical
        values (see the module docstring).

    Returns
    -------
    Datestamp
        The episodes in time order, with the overall verdict.
    """
    if not isinstance(result, RadfResult):
        raise TypeError(f"result must be a RadfResult from radf(), got {type(result).__name__}")
    cv.check_matches(result)
    if option not in ("gsadf", "sadf"):
        raise ValueError(f"option must be 'gsadf' or 'sadf', got {option!r}")
    col = cv.level_index(sig_level)
    level = cv.levels[col]
    if min_duration is None:
        min_duration = psy_min_duration(result.n)
    elif isinstance(min_duration, bool) or not isinstance(min_duration, (int, np.integer)) \
            or min_duration < 0:
        raise ValueError(f"min_duration must be a non-negative integer, got {min_duration!r}")
    if option == "gsadf":
        seq, crit_seq = result.bsadf, cv.bsadf[:, col]
        stat, crit = result.gsadf, float(cv.gsadf[col])
    else:
        seq, crit_seq = result.badf, cv.badf[:, col]
        stat, crit = result.sadf, float(cv.sadf[col])
    rejected = bool(stat > crit)
    if require_rejection is None:
        require_rejection = cv.method == "mc"
    episodes: tuple[Episode, ...] = ()
    if rejected or not require_rejection:
        mask = seq > crit_seq  # NaN compares False
        episodes = tuple(
            _episode(result, seq, s, e) for s, e in episodes_from_mask(mask, int(min_duration))
        )
    return Datestamp(
        episodes=episodes, option=option, sig_level=level, min_duration=int(min_duration),
        rejected=rejected, statistic=float(stat), critical_value=crit,
    )


def episodes_from_mask(mask: np.ndarray, min_duration: int = 0) -> list[tuple[int, int]]:
    """Runs of True in ``mask`` as ``(start, end)`` positions, ``end`` exclusive,
    keeping runs of at least ``min_duration``.

    Examples
    --------
    >>> episodes_from_mask(np.array([0, 1, 1, 0, 1, 1, 1], bool), 2)
    [(1, 3), (4, 7)]
    """
    m = np.asarray(mask, dtype=bool)
    if m.size == 0:
        return []
    edges = np.diff(np.concatenate(([0], m.view(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1)
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True) if e - s >= min_duration]


def _episode(result: RadfResult, seq: np.ndarray, s: int, e: int) -> Episode:
    off = result.offset
    npts = seq.shape[0]
    peak = s + int(np.nanargmax(seq[s:e]))
    start_pos, peak_pos = s + off, peak + off
    ongoing = e >= npts
    end_pos = None if ongoing else e + off
    y = result.series
    kind: Literal["positive", "negative"] = "positive" if y[peak_pos] >= y[start_pos] else "negative"
    return Episode(
        kind=kind, start=start_pos, peak=peak_pos, end=end_pos, duration=e - s,
        ongoing=ongoing, peak_stat=float(seq[peak]),
        start_label=result.label(start_pos), peak_label=result.label(peak_pos),
        end_label=None if end_pos is None else result.label(end_pos),
    )


def _fmt(label: Hashable) -> str:
    if hasattr(label, "strftime"):
        return label.strftime("%Y-%m-%d")
    return str(label)
