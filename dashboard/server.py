"""Start and stop the dashboard's Streamlit server as a child process.

``bubblewatch dashboard`` runs it in the foreground; ``bubblewatch up`` starts
it beside the scheduler with :func:`start_dashboard` and stops it with
:func:`stop_dashboard`. The child gets the database URL the parent resolved
(so a URL from the TOML file reaches it too) and serves on
``settings.dashboard.host``/``port`` (127.0.0.1:8501 by default).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from bubblewatch.core.errors import BubblewatchError
from bubblewatch.core.settings import Settings

APP_PATH = Path(__file__).with_name("app.py")


class DashboardError(BubblewatchError):
    """The dashboard server could not be started or did not become ready."""


def streamlit_command(settings: Settings, *, host: str | None = None,
                      port: int | None = None) -> list[str]:
    """The ``streamlit run`` command line for the dashboard (no shell needed),
    through :mod:`dashboard.launch`, which loads the app's modules first."""
    return [
        sys.executable, "-m", "dashboard.launch", "run", str(APP_PATH),
        "--server.address", host or settings.dashboard.host,
        "--server.port", str(port or settings.dashboard.port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--client.toolbarMode", "viewer",
        "--theme.base", "light",
    ]


def child_env(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment of the server: ours, plus the resolved database URL, plus ``extra``."""
    env = dict(os.environ)
    env["BUBBLEWATCH_DATABASE_URL"] = settings.resolved_database_url
    env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    env.update(extra or {})
    return env


def _pdeathsig_hook() -> Callable[[], None] | None:
    """Linux: a ``preexec_fn`` that asks the kernel to send the server SIGTERM
    when its parent dies, so a parent killed without running its clean-up
    (SIGTERM to ``bubblewatch up``, OOM kill) leaves no orphaned server holding
    the port. libc is loaded here, in the parent: the hook itself only makes
    one system call between fork and exec (no imports, no locks)."""
    if sys.platform != "linux":
        return None
    try:
        import ctypes

        prctl = ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except (OSError, AttributeError):
        return None

    def hook() -> None:  # pragma: no cover - runs in the child
        prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return hook


def start_dashboard(settings: Settings, *, host: str | None = None, port: int | None = None,
                    env: Mapping[str, str] | None = None, quiet: bool = False,
                    log_file: Path | None = None) -> subprocess.Popen[bytes]:
    """Start the Streamlit server in the background and return its process.

    Parameters
    ----------
    settings
        Host, port and database URL come from here unless overridden.
    host, port
        Override ``settings.dashboard.host`` / ``port``.
    env
        Extra environment variables for the server.
    quiet
        Discard the server's output instead of sharing this terminal.
    log_file
        Append the server's output to this file instead (its folder is
        created); ``quiet`` is then ignored.

    The server runs in its own process group so that :func:`stop_dashboard`
    can stop it (and nothing else) cleanly; on Linux it is also told to stop if
    this process dies without calling :func:`stop_dashboard`.
    """
    cmd = streamlit_command(settings, host=host, port=port)
    out: int | IO[bytes] | None = subprocess.DEVNULL if quiet else None
    try:
        if log_file is not None:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            out = log_file.open("ab")
        try:
            return subprocess.Popen(cmd, env=child_env(settings, env), stdout=out, stderr=out,
                                    start_new_session=True,
                                    preexec_fn=_pdeathsig_hook())  # noqa: PLW1509 - one syscall
        finally:
            if log_file is not None and out is not None and not isinstance(out, int):
                out.close()  # the child has its own copy
    except OSError as exc:
        raise DashboardError(f"cannot start the dashboard ({' '.join(cmd[:4])}): {exc}") from exc


def stop_dashboard(proc: subprocess.Popen[bytes], timeout: float = 10.0) -> int | None:
    """Stop the server started by :func:`start_dashboard`: SIGTERM to its process
    group, then SIGKILL after ``timeout`` seconds. Returns the exit code."""
    if proc.poll() is not None:
        return proc.returncode
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return proc.poll()
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return proc.wait(timeout=timeout)


def health_url(host: str, port: int) -> str:
    h = "127.0.0.1" if host in ("0.0.0.0", "") else ("[::1]" if host == "::" else host)
    return f"http://{h}:{port}/_stcore/health"


def wait_until_ready(proc: subprocess.Popen[bytes], host: str, port: int,
                     timeout: float = 60.0) -> float:
    """Poll the server's health endpoint until it answers ``ok``; returns the
    seconds waited.

    Raises
    ------
    DashboardError
        If the process exits or the server does not answer within ``timeout``.
    """
    url = health_url(host, port)
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise DashboardError(
                f"the dashboard server exited with code {proc.returncode} before it was ready; "
                f"is port {port} already in use? Set BUBBLEWATCH_DASHBOARD__PORT to another port"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return time.monotonic() - t0
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise DashboardError(f"the dashboard did not answer on {url} within {timeout:.0f} s")


def run_dashboard(settings: Settings, *, host: str | None = None, port: int | None = None
                  ) -> int:
    """Serve the dashboard in the foreground until Ctrl-C or the server exits.

    Returns the server's exit code (0 after Ctrl-C).
    """
    proc = start_dashboard(settings, host=host, port=port)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        stop_dashboard(proc)
        return 0
    finally:
        if proc.poll() is None:
            stop_dashboard(proc)
