"""Recording job runs in the run log.

The run row is written in its own transactions (opened ``running``, closed
``ok``/``partial``/``failed``) so that a job whose data transaction rolls back
still leaves a record of what failed and why.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from db import repo
from db.session import session_scope

log = logging.getLogger(__name__)


@dataclass
class RunRecorder:
    """Collects per-item outcomes of one job run."""

    job: str
    run_id: int
    rows: int = 0
    detail: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def ok(self, item: str, rows: int = 0, **info: Any) -> None:
        self.rows += rows
        self.detail[item] = {"status": "ok", "rows": rows, **info}

    def fail(self, item: str, error: BaseException | str) -> None:
        msg = str(error)
        self.failures[item] = msg
        self.detail[item] = {"status": "failed", "error": msg}

    @property
    def status(self) -> str:
        if not self.failures:
            return "ok"
        return "partial" if len(self.failures) < len(self.detail) else "failed"


@contextmanager
def record_run(url: str, job: str) -> Iterator[RunRecorder]:
    """Open a run-log row, yield a :class:`RunRecorder`, close the row.

    An exception escaping the block marks the run ``failed`` with the error and
    is re-raised.
    """
    with session_scope(url) as s:
        run_id = repo.start_run(s, job)
    rec = RunRecorder(job, run_id)
    try:
        yield rec
    except BaseException as exc:
        with session_scope(url) as s:
            repo.finish_run(
                s, run_id, status="failed", rows=rec.rows, detail=rec.detail,
                error=f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
            )
        if not isinstance(exc, (KeyboardInterrupt, SystemExit)):
            log.debug("run %s failed:\n%s", job, traceback.format_exc())
        raise
    error = "; ".join(v if v.startswith(k) else f"{k}: {v}"
                      for k, v in rec.failures.items()) or None
    with session_scope(url) as s:
        repo.finish_run(s, run_id, status=rec.status, rows=rec.rows, detail=rec.detail, error=error)
