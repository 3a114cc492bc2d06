"""Recording job runs in the run log, and closing the runs of dead processes.

The run row is written in its own transactions (opened ``running``, closed
``ok``/``partial``/``failed``) so that a job whose data transaction rolls back
still leaves a record of what failed and why. A password of the database URL
never reaches the stored error.

A process killed while a job runs (kill -9, OOM, power loss) cannot close its
row. Each row therefore records its owner, ``host:pid:namespace.token``
(:func:`this_process`); :func:`close_stale_runs`, called before every new run
and when the scheduler starts, closes as ``interrupted`` the ``running`` rows
whose owner is gone: a process of this host and PID namespace that no longer
exists (or whose pid is now this process's, as after a container restart),
or, for rows of another host or container or rows written before owners were
recorded, a run started more than :data:`STALE_AFTER` ago.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from db import repo
from db.models import RunLog
from db.session import scrub, session_scope

log = logging.getLogger(__name__)

#: Status of a run whose process ended before it could close it.
INTERRUPTED = "interrupted"
#: Age after which a ``running`` row whose owner cannot be checked (another host,
#: or no owner recorded) is taken to be interrupted.
STALE_AFTER = timedelta(hours=24)

_TOKENS: dict[int, str] = {}


def _pid_namespace() -> str:
    """This process's PID namespace (Linux: the inode of ``/proc/self/ns/pid``):
    processes in another container see other pids, even under the same host name."""
    try:
        return os.readlink("/proc/self/ns/pid").removeprefix("pid:[").rstrip("]")
    except OSError:
        return "0"


def this_process() -> str:
    """``host:pid:namespace.token`` naming this process (a new token after a
    fork), so a later process that happens to get the same pid is not
    mistaken for it."""
    pid = os.getpid()
    if pid not in _TOKENS:
        _TOKENS[pid] = f"{socket.gethostname()}:{pid}:{_pid_namespace()}.{uuid.uuid4().hex[:8]}"
    return _TOKENS[pid]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to another user
        return True
    stat = Path(f"/proc/{pid}/stat")
    try:  # a zombie has exited; only its parent has not collected it yet
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def process_gone(owner: str | None) -> bool | None:
    """Whether the process named ``owner`` (``host:pid:namespace.token[:...]``,
    see :func:`this_process`) has ended: True or False for a process of this
    host and PID namespace, None when it cannot be told (another host or
    container, or not an owner string)."""
    if not owner:
        return None
    host, _, rest = owner.partition(":")
    pid_text, _, tail = rest.partition(":")
    namespace, dot, token = tail.split(":", 1)[0].partition(".")
    if host != socket.gethostname() or not pid_text.isdigit() or not dot:
        return None
    if namespace != _pid_namespace():
        return None
    pid = int(pid_text)
    if pid == os.getpid():  # this pid: only this process if the token is ours
        return token != this_process().rsplit(".", 1)[1]
    return not _pid_alive(pid)


def close_stale_runs(url: str, now: datetime | None = None) -> int:
    """Close the ``running`` rows of processes that are gone as ``interrupted``;
    returns how many (see the module docstring for the rule)."""
    now = now or datetime.now(UTC)
    closed = 0
    with session_scope(url) as s:
        for run in s.scalars(select(RunLog).where(RunLog.status == "running")):
            owner = (run.detail or {}).get("owner")
            gone = process_gone(owner)
            started = run.started_at if run.started_at.tzinfo else run.started_at.replace(tzinfo=UTC)
            if gone is None:
                gone = now - started > STALE_AFTER
            if not gone:
                continue
            run.status, run.finished_at = INTERRUPTED, now
            run.error = (f"interrupted: the process running it ({owner or 'unknown'}) ended "
                         "before the run finished (killed, or the machine restarted); run the "
                         "job again")
            closed += 1
    if closed:
        log.warning("closed %d run-log row(s) of ended processes as interrupted", closed)
    return closed


def close_own_runs(url: str, reason: str) -> int:
    """Close this process's ``running`` rows as ``interrupted`` (a stop that
    leaves a job behind); returns how many."""
    me = this_process()
    closed = 0
    with session_scope(url) as s:
        for run in s.scalars(select(RunLog).where(RunLog.status == "running")):
            if (run.detail or {}).get("owner") == me:
                run.status, run.finished_at = INTERRUPTED, datetime.now(UTC)
                run.error = f"interrupted: {reason}"
                closed += 1
    return closed


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
        msg = scrub(str(error))
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

    Rows of ended processes are closed first (:func:`close_stale_runs`). An
    exception escaping the block marks the run ``failed`` with the error and
    is re-raised.
    """
    close_stale_runs(url)
    with session_scope(url) as s:
        run_id = repo.start_run(s, job)
        run = s.get(RunLog, run_id)
        if run is not None:
            run.detail = {"owner": this_process()}
    rec = RunRecorder(job, run_id)
    try:
        yield rec
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        try:
            with session_scope(url) as s:
                repo.finish_run(s, run_id, status="failed", rows=rec.rows, detail=rec.detail,
                                error=scrub(error, url))
        except Exception as record_exc:  # noqa: BLE001 - the job's own error matters more
            log.warning("could not record the failure of %s (%s); the run stays open until "
                        "the next run closes it", job, scrub(str(record_exc), url))
        if not isinstance(exc, (KeyboardInterrupt, SystemExit)):
            log.debug("run %s failed:\n%s", job, traceback.format_exc())
        raise
    error = "; ".join(v if v.startswith(k) else f"{k}: {v}"
                      for k, v in rec.failures.items()) or None
    with session_scope(url) as s:
        repo.finish_run(s, run_id, status=rec.status, rows=rec.rows, detail=rec.detail,
                        error=error)
