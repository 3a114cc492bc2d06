"""Every known error is one red ``error:`` line on stderr, exit code 1, no
traceback, no password: bad, unknown, unreachable database URLs, a missing
driver, a full disk, a read-only database, bad cron strings, time zones, log
levels and ports, a rules file that is not UTF-8, an invalid Slack webhook, a
password SMTP would send in clear, and messages holding ``[brackets]``."""

from __future__ import annotations

import errno
import pathlib
import socket
from pathlib import Path

import pytest
from sqlalchemy import event
from typer.testing import CliRunner, Result

from bubblewatch.app.cli import app
from bubblewatch.core.settings import get_settings
from db.session import get_engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(monkeypatch: pytest.MonkeyPatch, *args: str, **env: str) -> Result:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        get_settings.cache_clear()


def one_line(result: Result) -> str:
    """The single ``error:`` line of a run that failed on a known error."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)  # nothing escaped
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# --------------------------------------------------------------------------- database URLs
def test_unparseable_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    line = one_line(run(monkeypatch, "status", BUBBLEWATCH_DATABASE_URL="db at p4ssw0rd"))
    assert "BUBBLEWATCH_DATABASE_URL" in line and "not a database URL" in line
    assert "p4ssw0rd" not in line


def test_unknown_database_kind(monkeypatch: pytest.MonkeyPatch) -> None:
    line = one_line(run(monkeypatch, "status",
                        BUBBLEWATCH_DATABASE_URL="postgres://bw:hunter2x@db.example/bw"))
    assert "unknown database kind 'postgres'" in line and "write postgresql://" in line
    assert "hunter2x" not in line and "postgres://bw:***@db.example/bw" in line


def test_missing_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    line = one_line(run(monkeypatch, "status",
                        BUBBLEWATCH_DATABASE_URL="postgresql+pg8000://bw:hunter2x@db.example/bw"))
    assert "driver 'pg8000'" in line and "not installed" in line and "hunter2x" not in line


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg2"])
def test_unreachable_database_server(monkeypatch: pytest.MonkeyPatch, scheme: str) -> None:
    port = free_port()  # nothing listens there
    url = f"{scheme}://bw:p@ss-w0rd@127.0.0.1:{port}/bw"  # unencoded @ in the password
    line = one_line(run(monkeypatch, "status", BUBBLEWATCH_DATABASE_URL=url))
    assert line.startswith(f"error: cannot reach the database server of "
                           f"{scheme}://bw:***@127.0.0.1:{port}/bw (")
    assert "Connection refused" in line
    assert "p@ss" not in line and "ss-w0rd" not in line


# --------------------------------------------------------------------------- disk and file
@pytest.fixture()
def sqlite_file(tmp_path: Path) -> Path:
    from db.migrate import upgrade

    path = tmp_path / "db" / "bw.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


def test_disk_full_database(monkeypatch: pytest.MonkeyPatch, sqlite_file: Path) -> None:
    """SQLite's ``max_page_count`` stops the file growing, as a full disk does."""
    url = f"sqlite:///{sqlite_file}"
    engine = get_engine(url)
    with engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar_one()
    engine.dispose()
    full = event.listens_for(engine, "connect")(
        lambda dbapi_conn, _rec: dbapi_conn.execute(f"PRAGMA max_page_count={pages}"))
    try:
        line = one_line(run(monkeypatch, "init", BUBBLEWATCH_DATABASE_URL=url))
    finally:
        event.remove(engine, "connect", full)
        engine.dispose()
    assert line == (f"error: {url}: the disk is full (database or disk is full); free space on "
                    "the disk that holds the database, or move it and point "
                    "BUBBLEWATCH_DATABASE_URL there")


def test_disk_full_creating_the_data_folder(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    def no_space(self: Path, *_a: object, **_k: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(pathlib.Path, "mkdir", no_space)
    url = f"sqlite:///{tmp_path}/new/bw.sqlite"
    line = one_line(run(monkeypatch, "init", BUBBLEWATCH_DATABASE_URL=url))
    assert line == (f"error: no space left on the disk ({tmp_path}/new); free space there, or "
                    "point BUBBLEWATCH_DATA_DIR / BUBBLEWATCH_CACHE_DIR at another disk")


def test_read_only_database(monkeypatch: pytest.MonkeyPatch, sqlite_file: Path) -> None:
    """Opened read-only (SQLite ``mode=ro``: chmod does not stop root)."""
    url = f"sqlite:///file:{sqlite_file}?mode=ro&uri=true"
    line = one_line(run(monkeypatch, "init", BUBBLEWATCH_DATABASE_URL=url))
    assert line.startswith(f"error: {url} is read-only (attempt to write a readonly database)")
    assert "write permission on the file and its folder" in line


# --------------------------------------------------------------------------- settings
@pytest.mark.parametrize(("name", "value", "needle"), [
    ("BUBBLEWATCH_SCHEDULER__PRICES_CRON", "61 17 * * mon-fri",
     "'61 17 * * mon-fri' is not a cron expression"),
    ("BUBBLEWATCH_SCHEDULER__FUNDAMENTALS_CRON", "every day", "'every day' is not a cron"),
    ("BUBBLEWATCH_SCHEDULER__TIMEZONE", "Mars/Olympus_Mons",
     "unknown time zone 'Mars/Olympus_Mons'; use an IANA name"),
    ("BUBBLEWATCH_LOG_LEVEL", "LOUD",
     "unknown log level 'LOUD'; use one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ("BUBBLEWATCH_SMTP__PORT", "70000", "less than or equal to 65535"),
])
def test_bad_settings(monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                      needle: str) -> None:
    line = one_line(run(monkeypatch, "status", **{name: value}))
    assert line.startswith("error: invalid settings in environment: ")
    assert f"({name}): " in line and needle in line


def test_bad_log_level_option(monkeypatch: pytest.MonkeyPatch) -> None:
    line = one_line(run(monkeypatch, "--log-level", "chatty", "status"))
    assert line == ("error: --log-level: unknown log level 'chatty'; use one of DEBUG, INFO, "
                    "WARNING, ERROR, CRITICAL")


def test_brackets_in_messages_are_printed(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    cfg = tmp_path / "bubblewatch.toml"
    cfg.write_text('[universe]\nsymbols = ["NVDA", "NOPE"]\n')
    line = one_line(run(monkeypatch, "status", BUBBLEWATCH_CONFIG=str(cfg)))
    assert line.startswith("error: [universe] symbols: ") and "NOPE" in line


def test_settings_file_that_is_not_utf8(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "bubblewatch.toml"
    cfg.write_bytes("[sec]\nuser_agent = \"R\xe9sum\xe9 a@b.c\"\n".encode("latin-1"))
    line = one_line(run(monkeypatch, "status", BUBBLEWATCH_CONFIG=str(cfg)))
    assert line == f"error: {cfg}:2: not UTF-8 text (byte 0xe9); save the file as UTF-8"


# --------------------------------------------------------------------------- alerts
def test_rules_file_that_is_not_utf8(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    rules = tmp_path / "rules.toml"
    rules.write_bytes('[[rules]]\nid = "a"\ndescription = "Caf\xe9"\n'.encode("latin-1"))
    line = one_line(run(monkeypatch, "alerts", "list",
                        BUBBLEWATCH_ALERTS__RULES_FILE=str(rules)))
    assert line == (f"error: {rules}:3: not UTF-8 text (byte 0xe9); save the rules file as "
                    "UTF-8")


@pytest.mark.parametrize("webhook", ["hooks.slack.com/services/T0/B0/tok3nSecret",
                                     "http://hooks.slack.com/services/T0/B0/tok3nSecret",
                                     "https://[broken/services/T0/B0/tok3nSecret"])
def test_invalid_slack_webhook_in_alerts_test(monkeypatch: pytest.MonkeyPatch,
                                              webhook: str) -> None:
    line = one_line(run(monkeypatch, "alerts", "test", "--channel", "slack", "--to", "BW_HOOK",
                        BW_HOOK=webhook))
    assert line == ("error: the Slack webhook in $BW_HOOK is not an https:// URL with a host; "
                    "set BW_HOOK to the webhook URL Slack gave "
                    "(https://hooks.slack.com/services/...)")


def test_smtp_password_is_not_sent_in_clear(monkeypatch: pytest.MonkeyPatch) -> None:
    line = one_line(run(monkeypatch, "alerts", "test", "--channel", "email", "--to",
                        "ops@example.org", BUBBLEWATCH_SMTP__HOST="127.0.0.1",
                        BUBBLEWATCH_SMTP__PORT=str(free_port()),
                        BUBBLEWATCH_SMTP__USERNAME="alerts", BUBBLEWATCH_SMTP__PASSWORD="pw-123"))
    assert "refusing to send the password of 'alerts' unencrypted" in line
    assert "BUBBLEWATCH_SMTP__ALLOW_PLAINTEXT_PASSWORD=true" in line and "pw-123" not in line
