"""Scheduler wiring and the single-instance lease."""

from __future__ import annotations

from apscheduler.schedulers.background import BackgroundScheduler

from bubblewatch.app.scheduler import Lease, build_scheduler, run_scheduler
from bubblewatch.core.errors import JobLockedError
from tests.conftest import make_settings


def test_jobs_have_cron_triggers_coalescing_and_grace(db_url: str) -> None:
    settings = make_settings(db_url)
    sched = build_scheduler(settings, Lease(db_url), BackgroundScheduler(timezone="UTC"))
    jobs = {j.id: j for j in sched.get_jobs()}
    assert set(jobs) == {"daily", "fundamentals", "deliver", "heartbeat"}
    daily = jobs["daily"]
    assert daily.coalesce and daily.max_instances == 1
    assert daily.misfire_grace_time == settings.scheduler.misfire_grace_s
    fields = {f.name: str(f) for f in daily.trigger.fields}
    assert fields["hour"] == "17" and fields["minute"] == "30" and fields["day_of_week"] == "mon-fri"


def test_second_scheduler_refuses_to_start(db_url: str) -> None:
    first = Lease(db_url)
    assert first.acquire()
    try:
        try:
            run_scheduler(make_settings(db_url))
        except JobLockedError as exc:
            assert "already running" in str(exc)
        else:  # pragma: no cover - the assertion below explains
            raise AssertionError("a second scheduler started while the lease was held")
    finally:
        first.release()
    assert Lease(db_url).acquire()  # released: another may take it


def test_job_skips_and_stops_when_lease_is_lost(db_url: str) -> None:
    settings = make_settings(db_url)
    mine, other = Lease(db_url), Lease(db_url)
    assert other.acquire()
    sched = BackgroundScheduler(timezone="UTC")
    build_scheduler(settings, mine, sched)
    sched.start(paused=True)
    ran: list[str] = []
    import bubblewatch.app.scheduler as mod

    original = mod.deliver_job
    mod.deliver_job = lambda s: ran.append("deliver")  # type: ignore[assignment]
    try:
        job = sched.get_job("deliver")
        guarded = mod._guarded(mine, sched, mod.deliver_job, settings)
        guarded()
        assert ran == []  # the other instance holds the lease: nothing ran
        assert not sched.running
        assert job is not None
    finally:
        mod.deliver_job = original  # type: ignore[assignment]
        if sched.running:
            sched.shutdown(wait=False)
