"""Kill ``bubblewatch`` migrations part way through, for the crash tests.

Run as ``python -m tests.db.migration_killer`` with a JSON job on stdin::

    {"mode": "statements" | "timed", "template": "sqlite:///dir/k{i}.sqlite",
     "schema": null, "legacy": false, "points": 20, "every": 1}

Database *i* is ``template.format(i=i)``; with ``schema`` (PostgreSQL: a
template whose URL sets ``search_path`` to that schema) the schema
``schema.format(i=i)`` is created first. The process imports
bubblewatch once and then forks one child per database; each child runs :func:`db.migrate.upgrade` on its (empty) database and is
killed with SIGKILL part way through, the way ``kill -9`` or a power cut ends
a process:

* ``statements``: child *i* kills itself just before the *i*-th SQL statement
  of the upgrade (and the last one just before its COMMIT), so every statement
  boundary is hit once (every ``every``-th with that option); a first child
  counts the statements.
* ``timed``: the parent sends SIGKILL at ``points`` times spread evenly from the
  first statement to the end of the commit, as measured on a first child.

``legacy`` runs the migrations the way bubblewatch did before upgrades were one
transaction (Alembic on a plain pooled connection, where SQLite commits each
CREATE TABLE by itself) up to :data:`LEGACY_HEAD`, the revisions those versions
ran, to leave the partial databases they left.

Prints the calibration run (``{"calibration": {"statements", ...}}``), then one
JSON line per database: ``{"url", "point", "signal"}`` (``signal`` 9 when
the child was killed, null when it finished first). Forking from this fresh,
single-threaded process keeps each kill cheap (no interpreter start per point).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any


def _emit(obj: dict[str, Any], fd: int = 1) -> None:
    os.write(fd, (json.dumps(obj) + "\n").encode())


#: The newest revision earlier versions ever ran the legacy way; later ones
#: only ever ran in one transaction.
LEGACY_HEAD = "0003"


def _run_upgrade(url: str, legacy: bool) -> None:
    from db.migrate import upgrade

    if not legacy:
        upgrade(url)
        return
    from alembic import command

    from db.migrate import alembic_config
    from db.session import get_engine

    with get_engine(url).connect() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, LEGACY_HEAD)
        conn.commit()


def _child(url: str, legacy: bool, kill_at: int | None, report_fd: int | None) -> None:
    """In the forked child: run the upgrade, dying just before statement
    ``kill_at`` (0: just before the COMMIT); report the statement count and the
    times of the first statement and of the end on ``report_fd``."""
    from sqlalchemy import Engine, event

    seen: dict[str, Any] = {"n": 0, "first": None}

    def before_statement(*_a: Any) -> None:
        seen["n"] += 1
        if seen["first"] is None:
            seen["first"] = time.monotonic()
        if kill_at is not None and seen["n"] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def before_commit(_conn: Any) -> None:
        if kill_at == 0:
            os.kill(os.getpid(), signal.SIGKILL)

    event.listen(Engine, "before_cursor_execute", before_statement)
    event.listen(Engine, "commit", before_commit)
    _run_upgrade(url, legacy)
    if report_fd is not None:
        _emit({"statements": seen["n"], "first": seen["first"], "end": time.monotonic()},
              report_fd)


def _fork(url: str, legacy: bool, kill_at: int | None, report_fd: int | None = None) -> int:
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 0
        try:
            _child(url, legacy, kill_at, report_fd)
        except BaseException as exc:  # noqa: BLE001 - report and leave without clean-up
            _emit({"child_error": f"{type(exc).__name__}: {exc}"})
            code = 1
        os._exit(code)
    return pid


def _wait(pid: int) -> int | None:
    """The signal that ended child ``pid`` (None when it finished by itself)."""
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return os.WTERMSIG(status)
    if os.WEXITSTATUS(status):
        raise RuntimeError(f"migration child exited with {os.WEXITSTATUS(status)}")
    return None


def _calibrate(url: str, legacy: bool) -> tuple[dict[str, Any], float]:
    """Run one whole upgrade; its report and the time it was forked."""
    r_fd, w_fd = os.pipe()
    t_fork = time.monotonic()
    pid = _fork(url, legacy, None, w_fd)
    os.close(w_fd)
    _wait(pid)
    with os.fdopen(r_fd) as f:
        return json.loads(f.read()), t_fork


def _database(job: dict[str, Any], i: int) -> str:
    """The URL of empty database number ``i``: ``template.format(i=i)``, with
    its schema ``schema.format(i=i)`` created first when the job names one (a
    PostgreSQL schema per kill point is much cheaper than a database)."""
    url = str(job["template"]).format(i=i)
    if job.get("schema"):
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{str(job["schema"]).format(i=i)}"')
        engine.dispose()
    return url


def main() -> None:
    job = json.load(sys.stdin)
    import db.migrate  # noqa: F401  (import everything once, before forking)

    legacy = bool(job.get("legacy"))
    measured, t_fork = _calibrate(_database(job, 0), legacy)
    _emit({"calibration": measured})
    if job["mode"] == "statements":
        points = [*range(1, measured["statements"] + 1, int(job.get("every", 1))), 0]
        for i, point in enumerate(points, start=1):
            url = _database(job, i)
            _emit({"url": url, "point": point, "signal": _wait(_fork(url, legacy, point))})
        return
    start, end = measured["first"] - t_fork, measured["end"] - t_fork
    n = int(job["points"])
    for k in range(1, n + 1):
        url = _database(job, k)
        at = start + (end - start) * k / (n + 1)
        t0 = time.monotonic()
        pid = _fork(url, legacy, None)
        delay = at - (time.monotonic() - t0)
        if delay > 0:
            time.sleep(delay)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        _emit({"url": url, "point": round(at, 4), "signal": _wait(pid)})


if __name__ == "__main__":
    main()
