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
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from alerts.service import deliver_job as deliver_alerts
from alerts.service import evaluate_job
from bubblewatch.app.jobs import ingest_edgar, ingest_yahoo
from bubblewatch.core.errors import BubblewatchError, JobLockedError
from bubblewatch.core.settings import Settings
from db import repo
from db.migrate import upgrade
from db.session import session_scope
from indicators.compute import run_compute

log = logging.getLogger(__name__)

LOCK_NAME = "scheduler"
LEASE_S = 120.0
HEARTBEAT_S = 30.0


@dataclass
class Lease:
    """This process's claim on the single-instance lock."""

    url: str
    owner: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}")
    name: str = LOCK_NAME

    def acquire(self) -> bool:
        with session_scope(self.url) as s:
            return repo.acquire_lock(s, self.name, self.owner, LEASE_S)

    def release(self) -> None:
        with session_scope(self.url) as s:
            repo.release_lock(s, self.name, self.owner)


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


def _guarded(lease: Lease, scheduler: BaseScheduler, fn: Callable[[Settings], None],
             settings: Settings) -> Callable[[], None]:
    def run() -> None:
        if not lease.acquire():
            log.error("lost the scheduler lock to another instance; stopping")
            scheduler.shutdown(wait=False)
            return
        try:
            fn(settings)
        except BubblewatchError as exc:
            log.error("%s failed: %s", fn.__name__, exc)
        except Exception:
            log.exception("%s crashed", fn.__name__)

    run.__name__ = fn.__name__
    return run


def build_scheduler(settings: Settings, lease: Lease,
                    scheduler: BaseScheduler | None = None) -> BaseScheduler:
    """A scheduler with every job added (not started)."""
    cfg = settings.scheduler
    sched = scheduler or BlockingScheduler(timezone=cfg.timezone)
    defaults = {"coalesce": True, "max_instances": 1, "misfire_grace_time": cfg.misfire_grace_s,
                "replace_existing": True}
    sched.add_job(_guarded(lease, sched, daily_job, settings),
                  CronTrigger.from_crontab(cfg.prices_cron, timezone=cfg.timezone),
                  id="daily", name="prices -> compute -> alerts", **defaults)
    sched.add_job(_guarded(lease, sched, fundamentals_job, settings),
                  CronTrigger.from_crontab(cfg.fundamentals_cron, timezone=cfg.timezone),
                  id="fundamentals", name="SEC companyfacts", **defaults)
    sched.add_job(_guarded(lease, sched, deliver_job, settings), IntervalTrigger(minutes=1),
                  id="deliver", name="alert deliveries", **defaults)

    def heartbeat() -> None:
        if not lease.acquire():
            log.error("scheduler lock taken over by another instance; stopping")
            sched.shutdown(wait=False)

    sched.add_job(heartbeat, IntervalTrigger(seconds=HEARTBEAT_S), id="heartbeat",
                  name="lock heartbeat", **defaults)
    return sched


def run_scheduler(settings: Settings) -> None:
    """Take the single-instance lock and run the scheduler until Ctrl-C."""
    url = settings.resolved_database_url
    upgrade(url)
    lease = Lease(url)
    if not lease.acquire():
        raise JobLockedError(
            "another bubblewatch scheduler is already running against this database; "
            f"stop it first, or wait {int(LEASE_S)} s after it died"
        )
    sched = build_scheduler(settings, lease)
    for job in sched.get_jobs():
        log.info("scheduled %-12s %s", job.id, job.trigger)
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if sched.running:
            sched.shutdown(wait=False)
        lease.release()
        log.info("scheduler stopped")
