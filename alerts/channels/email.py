"""E-mail over SMTP (plain, STARTTLS or implicit TLS per settings).

A login is only sent over TLS: with ``security = "plain"`` and a username the
channel refuses to send (a permanent error naming the settings to change)
unless ``smtp.allow_plaintext_password`` says the path to the relay is trusted.

Each message is ``multipart/alternative`` (plain text + HTML). Its
``Message-ID`` is derived from the delivery's idempotency key, so a message
re-sent after a crash is recognisably the same message (mail systems and our
test receiver drop the duplicate by Message-ID).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate

from alerts.channels.base import KEY_HEADER, OutgoingMessage
from bubblewatch.core.errors import DeliveryError
from bubblewatch.core.settings import SmtpSettings


def message_id(key: str) -> str:
    """The stable ``Message-ID`` of the delivery with idempotency ``key``."""
    return f"<{key}@bubblewatch>"


def build_email(message: OutgoingMessage, sender: str) -> EmailMessage:
    """The MIME message (text + HTML alternative) for ``message``."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = message.target
    msg["Subject"] = message.subject
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id(message.key)
    msg[KEY_HEADER] = message.key
    msg.set_content(message.text)
    msg.add_alternative(message.html, subtype="html")
    return msg


class EmailNotifier:
    """Sends :class:`OutgoingMessage` through the SMTP server in ``settings``.

    ``smtp_factory`` replaces the :mod:`smtplib` connection (tests only).
    """

    channel = "email"

    def __init__(self, settings: SmtpSettings,
                 smtp_factory: Callable[[SmtpSettings], smtplib.SMTP] | None = None):
        self.settings = settings
        self._factory = smtp_factory or _connect

    def send(self, message: OutgoingMessage) -> None:
        s = self.settings
        where = f"SMTP server {s.host}:{s.port} ({s.security})"
        if s.username and s.security == "plain" and not s.allow_plaintext_password:
            raise DeliveryError(
                f"{where}: refusing to send the password of {s.username!r} unencrypted; set "
                "BUBBLEWATCH_SMTP__SECURITY=starttls (usually port 587) or ssl (port 465), or "
                "BUBBLEWATCH_SMTP__ALLOW_PLAINTEXT_PASSWORD=true if the network to the relay "
                "is trusted", retryable=False,
            )
        mail = build_email(message, s.sender)
        try:
            with self._factory(s) as smtp:
                if s.username:
                    password = s.password.get_secret_value() if s.password else ""
                    smtp.login(s.username, password)
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(
                f"{where} refused the login of {s.username!r} ({exc.smtp_code}); check "
                "BUBBLEWATCH_SMTP__USERNAME / BUBBLEWATCH_SMTP__PASSWORD", retryable=False,
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            detail = "; ".join(f"{a}: {c} {_txt(m)}" for a, (c, m) in exc.recipients.items())
            raise DeliveryError(f"{where} refused the recipient: {detail}",
                                retryable=False) from None
        except smtplib.SMTPResponseException as exc:
            temporary = 400 <= exc.smtp_code < 500
            raise DeliveryError(
                f"{where} answered {exc.smtp_code} {_txt(exc.smtp_error)}",
                retryable=temporary,
            ) from None
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{where}: {exc}; check BUBBLEWATCH_SMTP__SECURITY",
                                retryable=False) from None
        except ssl.SSLError as exc:
            raise DeliveryError(f"{where}: TLS failed ({exc.reason or exc}); check "
                                "BUBBLEWATCH_SMTP__SECURITY and the server certificate",
                                retryable=True) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{where} unreachable: {type(exc).__name__}: {exc}",
                                retryable=True) from None


def _connect(s: SmtpSettings) -> smtplib.SMTP:
    if s.security == "ssl":
        return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=_tls_context(s))
    context = _tls_context(s) if s.security == "starttls" else None
    smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
    if context is not None:
        try:
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
    return smtp


def _tls_context(s: SmtpSettings) -> ssl.SSLContext:
    """System trust plus ``s.ca_file``; certificate and hostname checks stay on."""
    context = ssl.create_default_context()
    if s.ca_file is not None:
        try:
            context.load_verify_locations(cafile=s.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise DeliveryError(
                f"cannot read the SMTP CA file {str(s.ca_file)!r} ({exc}); check "
                "BUBBLEWATCH_SMTP__CA_FILE", retryable=False,
            ) from None
    return context


def _txt(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
