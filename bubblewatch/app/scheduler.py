"""The in-process scheduler (APScheduler 3.x ``BlockingScheduler``).

Jobs, with cron triggers from ``[scheduler]`` settings:

* ``daily`` (after the US close): Yahoo prices -> compute -> alert evaluation;
* ``fundamentals`` (daily): SEC companyfacts;
* ``deliver`` (every minute): pending alert deliveries.

Every job coalesces missed runs into one, has a misfire grace time, and runs at
most one instance at a time. A lease in the database (``ops_job_lock``) makes
the scheduler single-instance: a second scheduler on the same database refuses
to start, and a job only runs while its scheduler holds the lease, so two
schedulers never run the same job twice.

Stopping and starting again:

* SIGTERM (systemd, docker, ``timeout``), SIGHUP and Ctrl-C stop the scheduler
  the same way: running jobs get ``scheduler.stop_timeout_s`` seconds to
  finish, then the lease is released, so a new scheduler can start at once.
  A job still running after that is abandoned: its transaction rolls back, its
  run-log row is closed as ``interrupted`` and the process exits without it.
* The lease names its owner ``host:pid:token``. A lease whose owner process is
  gone from this host (killed with kill -9, crashed) is taken over at once;
  one held from another host is taken over when it expires (``LEASE_S``).
* Run-log rows left ``running`` by a killed process are closed as
  ``interrupted`` when the scheduler starts (:func:`db.runlog.close_stale_runs`).
* Settings are checked before the lease is taken: a bad cron string or time
  zone stops the start with one line and leaves no lease behind.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import NoReturn
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from alerts.service import deliver_job as deliver_alerts
from alerts.service import evaluate_job
from bubblewatch.app.jobs import ingest_edgar, ingest_yahoo
from bubblewatch.core.errors import BubblewatchError, JobLockedError
from bubblewatch.core.settings import Settings
from db import repo
from db.migrate import require_current
from db.models import JobLock
from db.runlog import close_own_runs, close_stale_runs, process_gone, this_process
from db.session import explain, masked_url, session_scope
from indicators.compute import run_compute

log = logging.getLogger(__name__)

LOCK_NAME = "scheduler"
#: Seconds a lease lasts without a heartbeat (a holder on another host that
#: died is replaced after this long; one on this host at once).
LEASE_S = 120.0
HEARTBEAT_S = 30.0


# --------------------------------------------------------------------------- signals
class StopSignal(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: stop the way Ctrl-C does (``finally``
    blocks run: the dashboard is stopped, the lease released)."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


_STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`StopSignal` and
    SIGINT raises :class:`KeyboardInterrupt` in the main thread (even when the
    process was started with SIGINT ignored); the old handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: object) -> None:
        raise StopSignal(signum)

    old = {s: signal.signal(s, stop) for s in _STOP_SIGNALS}
    old[signal.SIGINT] = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


@contextmanager
def signals_held() -> Iterator[None]:
    """Ignore SIGTERM, SIGHUP and SIGINT for the block (clean-up that must not
    be cut short: releasing the lease, stopping the dashboard)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, signal.SIG_IGN) for s in (*_STOP_SIGNALS, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)


def exit_now(code: int = 0) -> NoReturn:
    """Leave the process at once (after flushing output), without waiting for
    job threads that were abandoned at a stop."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


# --------------------------------------------------------------------------- lease
@dataclass
class Lease:
    """This process's claim on the single-instance lock."""

    url: str
    owner: str = field(default_factory=lambda: f"{this_process()}:{uuid.uuid4().hex[:8]}")
    name: str = LOCK_NAME

    def holder(self) -> str | None:
        """The owner holding the lease now (None when free)."""
        with session_scope(self.url) as s:
            return s.scalar(select(JobLock.owner).where(JobLock.name == self.name))

    def acquire(self) -> bool:
        """Take or renew the lease; a lease whose owner process is gone from
        this host is taken over at once."""
        with session_scope(self.url) as s:
            held_by = s.scalar(select(JobLock.owner).where(JobLock.name == self.name))
            if held_by is not None and held_by != self.owner and process_gone(held_by):
                log.warning("taking over the scheduler lease of %s, which is no longer "
                            "running", held_by)
                repo.release_lock(s, self.name, held_by)
                s.flush()
            return repo.acquire_lock(s, self.name, self.owner, LEASE_S)

    def release(self) -> None:
        with session_scope(self.url) as s:
            repo.release_lock(s, self.name, self.owner)


def locked_error(lease: Lease) -> JobLockedError:
    """The error for a lease another scheduler holds."""
    return JobLockedError(
        f"another bubblewatch scheduler ({lease.holder() or 'unknown'}) is already "
        f"running against {masked_url(lease.url)}; stop it first (a scheduler on another "
        f"machine that died is replaced after {int(LEASE_S)} s)"
    )


def take_lease(url: str) -> Lease:
    """Take the single-instance lease for this process.

    Raises
    ------
    JobLockedError
        Another scheduler holds it.
    """
    lease = Lease(url)
    if not lease.acquire():
        raise locked_error(lease)
    return lease


@contextmanager
def lease_kept(lease: Lease) -> Iterator[None]:
    """Renew ``lease`` every :data:`HEARTBEAT_S` seconds from a background
    thread while the block runs (work done under the lease before the
    scheduler and its heartbeat start: the backfill of ``up``)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_S):
            try:
                lease.acquire()
            except SQLAlchemyError as exc:  # a busy database: the next beat tries again
                log.warning("could not renew the scheduler lease: %s",
                            explain(exc, lease.url) or type(exc).__name__)

    thread = threading.Thread(target=beat, name="lease-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


# --------------------------------------------------------------------------- jobs
def daily_job(settings: Settings) -> None:
    """Prices, then indicators, then alert evaluation."""
    ingest_yahoo(settings)
    run_compute(settings)
    evaluate_job(settings)


def fundamentals_job(settings: Settings) -> None:
    """SEC companyfacts for every company of the universe."""
    ingest_edgar(settings)


def deliver_job(settings: Settings) -> None:
    """Pending alert deliveries (the outbox)."""
    deliver_alerts(settings)


class Activity:
    """Which jobs are running now (so a stop can wait for them)."""

    def __init__(self) -> None:
        self._running: dict[str, int] = {}
        self._cond = threading.Condition()

    @contextmanager
    def running(self, name: str) -> Iterator[None]:
        with self._cond:
            self._running[name] = self._running.get(name, 0) + 1
        try:
            yield
        finally:
            with self._cond:
                self._running[name] -= 1
                if not self._running[name]:
                    del self._running[name]
                self._cond.notify_all()

    def wait_idle(self, timeout: float) -> list[str]:
        """Wait up to ``timeout`` seconds for every job to end; the ones still running."""
        with self._cond:
            self._cond.wait_for(lambda: not self._running, timeout=timeout)
            return sorted(self._running)


def _guarded(lease: Lease, scheduler: BaseScheduler, fn: Callable[[Settings], None],
             settings: Settings, activity: Activity | None = None) -> Callable[[], None]:
    def run() -> None:
        if not lease.acquire():
            log.error("lost the scheduler lock to another instance; stopping")
            scheduler.shutdown(wait=False)
            return
        with activity.running(fn.__name__) if activity else _nothing():
            try:
                fn(settings)
            except BubblewatchError as exc:
                log.error("%s failed: %s", fn.__name__, exc)
            except SQLAlchemyError as exc:
                known = explain(exc, settings.resolved_database_url)
                if known is None:
                    log.exception("%s crashed", fn.__name__)
                else:
                    log.error("%s failed: %s", fn.__name__, known)
            except Exception:
                log.exception("%s crashed", fn.__name__)

    run.__name__ = fn.__name__
    return run


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def build_scheduler(settings: Settings, lease: Lease, scheduler: BaseScheduler | None = None,
                    activity: Activity | None = None) -> BaseScheduler:
    """A scheduler with every job added (not started)."""
    cfg = settings.scheduler
    sched = scheduler or BlockingScheduler(timezone=cfg.timezone)
    defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": cfg.misfire_grace_s,
                "replace_existing": True}
    sched.add_job(_guarded(lease, sched, daily_job, settings, activity),
                  CronTrigger.from_crontab(cfg.prices_cron, timezone=cfg.timezone),
                  id="daily", name="prices -> compute -> alerts", **defaults)
    sched.add_job(_guarded(lease, sched, fundamentals_job, settings, activity),
                  CronTrigger.from_crontab(cfg.fundamentals_cron, timezone=cfg.timezone),
                  id="fundamentals", name="SEC companyfacts", **defaults)
    sched.add_job(_guarded(lease, sched, deliver_job, settings, activity),
                  IntervalTrigger(minutes=1), id="deliver", name="alert deliveries", **defaults)

    def heartbeat() -> None:
        if not lease.acquire():
            log.error("scheduler lock taken over by another instance; stopping")
            sched.shutdown(wait=False)

    sched.add_job(heartbeat, IntervalTrigger(seconds=HEARTBEAT_S), id="heartbeat",
                  name="lock heartbeat", **defaults)
    return sched


def next_runs(settings: Settings, now: datetime | None = None) -> list[tuple[str, str, datetime]]:
    """``(job id, job name, next run time)`` of each scheduled job after
    ``now``, times in ``scheduler.timezone`` (the lease heartbeat left out)."""
    tz = settings.scheduler.timezone
    now = (now or datetime.now(UTC)).astimezone(ZoneInfo(tz))
    sched = build_scheduler(settings, Lease(settings.resolved_database_url),
                            scheduler=BlockingScheduler(timezone=tz))
    return [(job.id, job.name, job.trigger.get_next_fire_time(None, now))
            for job in sched.get_jobs() if job.id != "heartbeat"]


def run_scheduler(settings: Settings, lease: Lease | None = None) -> bool:
    """Take the single-instance lock (or renew ``lease``, taken earlier by
    this process) and run the scheduler until Ctrl-C, SIGTERM or SIGHUP;
    then release the lock.

    Returns
    -------
    bool
        True when a job was still running after ``scheduler.stop_timeout_s``
        and was abandoned: the caller must then end the process with
        :func:`exit_now` once its own clean-up is done (a normal exit would
        wait for the job's thread).

    Raises
    ------
    JobLockedError
        Another scheduler holds the lock.
    """
    url = settings.resolved_database_url
    with stop_on_signals():
        require_current(url)
        close_stale_runs(url)
        lease, activity = lease or Lease(url), Activity()
        sched = build_scheduler(settings, lease, activity=activity)
        if not lease.acquire():
            raise locked_error(lease)
        abandoned: list[str] = []
        why = "stopped"
        try:
            for job in sched.get_jobs():
                log.info("scheduled %-12s %s", job.id, job.trigger)
            log.info("scheduler running as %s; stop it with Ctrl-C or SIGTERM", lease.owner)
            sched.start()
        except KeyboardInterrupt as exc:
            why = f"stopped by {exc}" if isinstance(exc, StopSignal) else "stopped by Ctrl-C"
        finally:
            with signals_held():
                if sched.running:
                    sched.shutdown(wait=False)
                abandoned = activity.wait_idle(settings.scheduler.stop_timeout_s)
                if abandoned:
                    log.warning("%s still running after %.0f s; stopping without it (its "
                                "transaction rolls back)", ", ".join(abandoned),
                                settings.scheduler.stop_timeout_s)
                    close_own_runs(url, f"the scheduler was {why} while the job ran")
                lease.release()
                log.info("scheduler %s; lease released", why)
        return bool(abandoned)
