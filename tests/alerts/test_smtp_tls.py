"""SMTP over TLS end to end: STARTTLS, implicit TLS and AUTH against a real
aiosmtpd server whose certificate comes from a throwaway CA (trustme), trusted
through ``SmtpSettings.ca_file``; plus the refusals around it."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from alerts.channels.base import OutgoingMessage
from alerts.channels.email import EmailNotifier, message_id
from bubblewatch.core.errors import DeliveryError
from bubblewatch.core.settings import SmtpSettings
from tests.alerts.conftest import SmtpInbox, free_port

HOST = "127.0.0.1"
USER, PASSWORD = "alerts", "s3cret-Pa55"


@dataclass
class TlsInbox(SmtpInbox):
    """An inbox that also records, per accepted message, the TLS version of the
    connection (None when plain text) and the authenticated login."""

    tls: list[str | None] = field(default_factory=list)
    logins: list[bytes | None] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        ssl_object = server.transport.get_extra_info("ssl_object")
        with self.lock:
            self.tls.append(ssl_object.version() if ssl_object is not None else None)
            self.logins.append(session.auth_data.login if session.authenticated else None)
        return await super().handle_DATA(server, session, envelope)


def authenticate(server, session, envelope, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data == (USER.encode(),
                                                                PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@dataclass(frozen=True)
class Tls:
    server_context: ssl.SSLContext
    ca_file: Path


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A private CA, its PEM on disk, and a server context for 127.0.0.1/localhost."""
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(HOST, "localhost").configure_cert(server_context)
    ca_file = tmp_path_factory.mktemp("smtp-ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return Tls(server_context, ca_file)


@contextmanager
def smtp_receiver(**smtp_kwargs: Any) -> Iterator[tuple[int, TlsInbox]]:
    """An aiosmtpd server on 127.0.0.1 (``smtp_kwargs`` go to Controller/SMTP)."""
    inbox = TlsInbox()
    port = free_port()
    controller = Controller(inbox, hostname=HOST, port=port, **smtp_kwargs)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture
def starttls_server(tls: Tls) -> Iterator[tuple[int, TlsInbox]]:
    with smtp_receiver(tls_context=tls.server_context, require_starttls=True) as server:
        yield server


def outgoing(key: str = "k" * 32) -> OutgoingMessage:
    return OutgoingMessage(key=key, channel="email", target="ops@example.org",
                           subject="[bubblewatch] TLS check", text="hello", html="<p>hello</p>")


def settings(port: int, security: str, **extra: Any) -> SmtpSettings:
    return SmtpSettings(host=HOST, port=port, security=security, timeout_s=5, **extra)


def assert_delivered_once(inbox: TlsInbox, message: OutgoingMessage) -> None:
    assert list(inbox.messages) == [message_id(message.key)]
    assert inbox.messages[message_id(message.key)]["Subject"] == message.subject
    assert len(inbox.receipts) == 1


def test_starttls_with_private_ca_delivers(starttls_server: tuple[int, TlsInbox],
                                           tls: Tls) -> None:
    port, inbox = starttls_server
    msg = outgoing()
    EmailNotifier(settings(port, "starttls", ca_file=tls.ca_file)).send(msg)
    assert_delivered_once(inbox, msg)
    assert inbox.tls[0] is not None and inbox.tls[0].startswith("TLS")


def test_implicit_tls_with_private_ca_delivers(tls: Tls) -> None:
    with smtp_receiver(ssl_context=tls.server_context) as (port, inbox):
        msg = outgoing()
        EmailNotifier(settings(port, "ssl", ca_file=tls.ca_file)).send(msg)
    assert_delivered_once(inbox, msg)
    assert inbox.tls[0] is not None and inbox.tls[0].startswith("TLS")


def test_auth_over_starttls(tls: Tls) -> None:
    with smtp_receiver(tls_context=tls.server_context, require_starttls=True,
                       auth_required=True, authenticator=authenticate) as (port, inbox):
        msg = outgoing()
        EmailNotifier(settings(port, "starttls", ca_file=tls.ca_file, username=USER,
                               password=PASSWORD)).send(msg)
        assert_delivered_once(inbox, msg)
        assert inbox.logins == [USER.encode()]
        assert inbox.tls[0] is not None

        wrong = settings(port, "starttls", ca_file=tls.ca_file, username=USER,
                         password="not-the-password")
        with pytest.raises(DeliveryError, match="BUBBLEWATCH_SMTP__USERNAME") as info:
            EmailNotifier(wrong).send(outgoing("w" * 32))
    assert info.value.retryable is False
    assert "not-the-password" not in str(info.value)
    assert len(inbox.receipts) == 1


def test_untrusted_certificate_is_a_retryable_tls_error(
        starttls_server: tuple[int, TlsInbox]) -> None:
    port, inbox = starttls_server
    with pytest.raises(DeliveryError, match="TLS failed") as info:
        EmailNotifier(settings(port, "starttls")).send(outgoing())
    assert info.value.retryable is True
    assert "CERTIFICATE_VERIFY_FAILED" in str(info.value)
    assert inbox.receipts == []


@pytest.mark.parametrize("security", ["starttls", "ssl"])
def test_unreadable_ca_file_is_permanent(tmp_path: Path, security: str) -> None:
    missing = tmp_path / "no-such-ca.pem"
    port = free_port()  # nothing listens: the CA file is checked before connecting
    with pytest.raises(DeliveryError, match="BUBBLEWATCH_SMTP__CA_FILE") as info:
        EmailNotifier(settings(port, security, ca_file=missing)).send(outgoing())
    assert info.value.retryable is False
    assert str(missing) in str(info.value)


def test_ca_file_that_is_not_pem_is_permanent(tmp_path: Path) -> None:
    garbage = tmp_path / "ca.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(DeliveryError, match="BUBBLEWATCH_SMTP__CA_FILE") as info:
        EmailNotifier(settings(free_port(), "starttls", ca_file=garbage)).send(outgoing())
    assert info.value.retryable is False


def test_plain_is_refused_by_a_server_requiring_starttls(
        starttls_server: tuple[int, TlsInbox]) -> None:
    port, inbox = starttls_server
    with pytest.raises(DeliveryError, match="530 .*STARTTLS") as info:
        EmailNotifier(settings(port, "plain")).send(outgoing())
    assert info.value.retryable is False
    assert inbox.receipts == []


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_plain_login_only_when_allowed_by_its_setting() -> None:
    """``security = "plain"`` with a login: refused by default, sent when
    ``allow_plaintext_password`` says the network is trusted."""
    with smtp_receiver(auth_required=True, auth_require_tls=False,
                       authenticator=authenticate) as (port, inbox):
        refused = settings(port, "plain", username=USER, password=PASSWORD)
        with pytest.raises(DeliveryError, match="ALLOW_PLAINTEXT_PASSWORD") as info:
            EmailNotifier(refused).send(outgoing())
        assert not info.value.retryable and inbox.receipts == []
        allowed = settings(port, "plain", username=USER, password=PASSWORD,
                           allow_plaintext_password=True)
        msg = outgoing()
        EmailNotifier(allowed).send(msg)
    assert_delivered_once(inbox, msg)
    assert inbox.tls == [None] and inbox.logins == [USER.encode()]
