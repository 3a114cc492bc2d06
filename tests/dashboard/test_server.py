"""The dashboard server process: command line, environment, and the
``bubblewatch dashboard`` command serving until Ctrl-C stops it cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from typer.testing import CliRunner

from bubblewatch.core.settings import Settings
from dashboard.server import APP_PATH, child_env, health_url, streamlit_command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_command_line_from_settings():
    s = Settings(database_url="sqlite:////tmp/x.sqlite",
                 dashboard={"host": "127.0.0.1", "port": 8600})
    cmd = streamlit_command(s)
    assert cmd[:5] == [sys.executable, "-m", "dashboard.launch", "run", str(APP_PATH)]
    opts = dict(zip(cmd[5::2], cmd[6::2], strict=True))
    assert opts["--server.address"] == "127.0.0.1" and opts["--server.port"] == "8600"
    assert opts["--server.headless"] == "true"
    assert opts["--browser.gatherUsageStats"] == "false"
    assert dict(zip(streamlit_command(s, host="0.0.0.0", port=9000)[5::2],
                    streamlit_command(s, host="0.0.0.0", port=9000)[6::2],
                    strict=True))["--server.port"] == "9000"
    assert child_env(s)["BUBBLEWATCH_DATABASE_URL"] == "sqlite:////tmp/x.sqlite"
    assert health_url("0.0.0.0", 8600) == "http://127.0.0.1:8600/_stcore/health"


def test_default_address_is_loopback():
    assert Settings().dashboard.host == "127.0.0.1"


def test_cli_registers_dashboard_command():
    from bubblewatch.app.cli import app

    result = CliRunner().invoke(app, ["dashboard", "--help"])
    assert result.exit_code == 0
    assert "--port" in result.output and "--host" in result.output


@pytest.mark.slow
def test_dashboard_command_serves_and_stops_on_ctrl_c(empty_db_url, tmp_path):
    port = free_port()
    env = {**os.environ, "BUBBLEWATCH_DATABASE_URL": empty_db_url}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bubblewatch", "dashboard", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        body = b""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health",
                                            timeout=2) as r:
                    body = r.read()
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
                time.sleep(0.3)
        assert body == b"ok"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        assert proc.wait(timeout=30) == 0
        out = proc.stdout.read().decode() if proc.stdout else ""
        assert f"http://127.0.0.1:{port}" in out
        # the Streamlit child is gone too: nothing answers on the port any more
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it counts as gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            state = next(line for line in f if line.startswith("State:"))
    except (FileNotFoundError, StopIteration):
        return False
    return "Z" not in state.split()[1]


@pytest.mark.slow
def test_server_does_not_outlive_a_killed_parent(empty_db_url):
    """A parent killed without clean-up (SIGKILL) must not leave the server behind."""
    port = free_port()
    code = (
        "import sys, time\n"
        "from bubblewatch.core.settings import Settings\n"
        "from dashboard.server import start_dashboard\n"
        f"p = start_dashboard(Settings(database_url={empty_db_url!r}), port={port}, quiet=True)\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    child = int(parent.stdout.readline())  # type: ignore[union-attr]
    try:
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if not _alive(child):
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"the dashboard server {child} outlived its killed parent")
    finally:
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_launcher_preloads_the_app_modules_quietly():
    """The server process imports the pages' modules before it serves, without
    Streamlit's 'no runtime' cache warnings."""
    code = ("import sys; from dashboard.launch import PRELOAD, preload; preload(); "
            "print(all(m in sys.modules for m in PRELOAD))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"
    assert "No runtime found" not in proc.stderr
