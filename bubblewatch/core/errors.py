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


class TransientSourceError(IngestError):
    """A live source failed in a way that may pass on a later try (time-out,
    connection reset, truncated answer, server error): callers retry with backoff."""


class HttpStatusError(IngestError):
    """A live source answered with an HTTP error ``status``.

    ``retry_after`` holds the seconds of a ``Retry-After`` header (429, 503), if any.
    """

    def __init__(self, message: str, *, status: int, retry_after: float | None = None,
                 source: str | None = None, location: str | None = None):
        self.status = status
        self.retry_after = retry_after
        super().__init__(message, source=source, location=location)

    @property
    def transient(self) -> bool:
        """Rate limits (429) and server errors (5xx) may pass; other statuses will not."""
        return self.status == 429 or self.status >= 500


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


class ClusterError(BubblewatchError):
    """The Dask cluster cannot be reached or failed (scheduler address, workers)."""


class BubblewatchWarning(UserWarning):
    """Base class of every warning bubblewatch emits."""


class PerformanceWarning(BubblewatchWarning):
    """Code runs without numba (plain Python): correct but much slower."""


class DataQualityWarning(BubblewatchWarning):
    """Input data is usable but suspicious (gaps, stale values, restatements)."""
