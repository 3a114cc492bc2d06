"""Real receivers for alert tests: an SMTP server (aiosmtpd) and an HTTP
server standing in for Slack, both in-process on 127.0.0.1. Each dedupes by
the delivery's idempotency key so tests can prove exactly-once delivery."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import socket
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from alerts.channels.base import KEY_HEADER
from db.migrate import upgrade
from indicators import registry
from indicators.registry import Indicator


def registered_indicators() -> dict[str, Indicator]:
    """The real registered indicators (their names, fields and keys are what
    rules are checked against)."""
    return {i.name: i for i in registry.all_indicators()}


@pytest.fixture
def indicators_registered(monkeypatch: pytest.MonkeyPatch) -> dict[str, Indicator]:
    """The registry's indicators (rules are validated against the real ones)."""
    return registered_indicators()


# --------------------------------------------------------------------------- database
@pytest.fixture(scope="session")
def _migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("alerts-db") / "template.sqlite"
    url = f"sqlite:///{path}"
    upgrade(url)
    from db.session import _ENGINES, _MAKERS

    _MAKERS.pop(url, None)
    engine = _ENGINES.pop(url)
    with engine.connect() as conn:  # fold the WAL into the file before copying it
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def alerts_db(_migrated_template: Path, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated SQLite database for one test."""
    path = tmp_path / "bw.sqlite"
    shutil.copy(_migrated_template, path)
    url = f"sqlite:///{path}"
    yield url
    from db.session import _ENGINES, _MAKERS

    engine = _ENGINES.pop(url, None)
    _MAKERS.pop(url, None)
    if engine is not None:
        engine.dispose()


# --------------------------------------------------------------------------- SMTP
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpInbox:
    """Everything the SMTP receiver accepted. ``messages`` keeps one message
    per Message-ID (what a mail store shows); ``receipts`` every transaction."""

    receipts: list[email.message.EmailMessage] = field(default_factory=list)
    messages: dict[str, email.message.EmailMessage] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address.startswith("nobody@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.receipts.append(msg)
            self.messages.setdefault(msg["Message-ID"], msg)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: SmtpInbox


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    inbox = SmtpInbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, inbox)
    finally:
        controller.stop()


# --------------------------------------------------------------------------- Slack
class _SlackHandler(BaseHTTPRequestHandler):
    server: SlackReceiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        key = self.headers.get(KEY_HEADER)
        status, headers, text = self.server.next_response()
        payload = json.loads(body)
        with self.server.lock:
            self.server.requests.append((self.path, key, status, payload))
            if 200 <= status < 300:
                self.server.delivered.setdefault(key, payload)
        if text is None:
            text = "ok" if status < 300 else f"error {status}"
        data = text.replace("{path}", self.path).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: Any) -> None:
        pass


class SlackReceiver(ThreadingHTTPServer):
    """Scripted webhook: answers the queued (status, headers) or (status,
    headers, body) in order, then 200; ``{path}`` in a body is replaced by the
    request's path (Slack errors may echo it). ``delivered`` keeps one payload
    per idempotency key."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SlackHandler)
        self.lock = threading.Lock()
        self.script: deque[tuple[int, dict[str, str]] | tuple[int, dict[str, str], str]] = deque()
        self.requests: list[tuple[str, str | None, int, dict[str, Any]]] = []
        self.delivered: dict[str | None, dict[str, Any]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/services/T000/B000/secretpart"

    def next_response(self) -> tuple[int, dict[str, str], str | None]:
        with self.lock:
            entry = self.script.popleft() if self.script else (200, {})
        return (entry[0], entry[1], entry[2] if len(entry) > 2 else None)  # type: ignore[misc]


@pytest.fixture
def slack_server() -> Iterator[SlackReceiver]:
    srv = SlackReceiver()
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
