"""Errors and warnings raised by bubblewatch.

Every error derives from :class:`BubblewatchError` and every warning from
:class:`BubblewatchWarning`, so callers can catch or filter the whole family
with one line. Messages say what went wrong *and* what to do about it.
"""

from __future__ import annotations


class BubblewatchError(Exception):
    """Base class of every error bubblewatch raises on purpose."""


class ConfigError(BubblewatchError):
    """Settings, universe or rule files are invalid."""


class IngestError(BubblewatchError):
    """A source could not be read or its payload is malformed.

    ``source`` names the file or URL; ``location`` the row, line or field.
    """

    def __init__(self, message: str, *, source: str | None = None, location: str | None = None):
        self.source = source
        self.location = location
        prefix = ""
        if source:
            prefix += f"{source}"
            if location:
                prefix += f" ({location})"
            prefix += ": "
        super().__init__(prefix + message)


class EmptyDataError(IngestError):
    """A source answered but returned no rows (yfinance does this silently)."""


class SourceUnavailableError(IngestError):
    """A live source cannot be reached (no network, DNS failure, refused)."""


class InfeasibleTestError(BubblewatchError, ValueError):
    """A statistical test cannot be computed on the given data (too short, singular)."""


class DeliveryError(BubblewatchError):
    """An alert could not be delivered through a channel."""

    def __init__(self, message: str, *, retryable: bool = True, retry_after: float | None = None):
        self.retryable = retryable
        self.retry_after = retry_after
        super().__init__(message)


class DatabaseError(BubblewatchError):
    """The database cannot be reached or used: server down, login refused, disk
    full, read-only file, unknown driver. The message names the (masked) URL
    and what to change."""


class JobLockedError(BubblewatchError):
    """Another scheduler instance already holds the single-instance lock."""


class BubblewatchWarning(UserWarning):
    """Base class of every warning bubblewatch emits."""


class PerformanceWarning(BubblewatchWarning):
    """Code runs without numba (plain Python): correct but much slower."""


class DataQualityWarning(BubblewatchWarning):
    """Input data is usable but suspicious (gaps, stale values, restatements)."""
