"""Database URLs: reading the user and password as people write them, and
keeping the password out of everything shown.

SQLAlchemy stops a URL's password at its *first* ``@``, so a password with an
unencoded ``@`` (``postgresql://bw:p@ss@db.example/bw``) is split wrongly: the
host becomes ``ss@db.example``, and the tail of the password shows up in the
masked URL and in the driver's "could not translate host name" error. Here the
user and password run up to the *last* ``@`` before the host (as in Python's
:mod:`urllib.parse` and in browsers), whatever characters they contain:

* :func:`normalize_url` percent-encodes the ``@`` of such a password so every
  later reader (SQLAlchemy, the drivers, Alembic) sees the same user, password
  and host;
* :func:`masked_url` shows a URL with its password replaced by ``***``;
* :func:`scrub` removes a URL's password (raw, decoded and percent-encoded
  forms) from any text, such as a driver's error message.

SQLite URLs carry no credentials and are returned unchanged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from sqlalchemy.engine import URL, make_url

#: Shown instead of a URL that cannot be parsed at all (it may hold a password).
INVALID = "<invalid database URL>"
#: What a password is replaced with (as SQLAlchemy's own masking does).
MASK = "***"
#: A host name, IPv4 address or (bracket-less) IPv6 address as SQLAlchemy reports it.
_HOST = re.compile(r"[A-Za-z0-9._%:-]*")
#: Shortest password that :func:`scrub` replaces in free text.
MIN_SCRUB = 3


@dataclass(frozen=True, slots=True)
class Userinfo:
    """``scheme://user:password@rest`` split at the last ``@`` (raw text, as written)."""

    scheme: str
    user: str | None
    password: str | None
    rest: str


def split_userinfo(url: str) -> Userinfo | None:
    """The parts of ``url``; None when it has no ``scheme://``."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        return None
    if scheme.startswith("sqlite"):
        return Userinfo(scheme, None, None, rest)
    head, at, tail = rest.rpartition("@")
    if not at:
        return Userinfo(scheme, None, None, rest)
    user, colon, password = head.partition(":")
    return Userinfo(scheme, user, password if colon else None, tail)


def _sqlalchemy_url(url: str) -> URL | None:
    try:
        return make_url(url)
    except Exception:  # noqa: BLE001 - any parse failure: the caller decides what to show
        return None


def _misread(url: str) -> bool:
    """Whether SQLAlchemy would cut ``url``'s password at an ``@`` inside it:
    the password (read up to the last ``@``) holds an ``@`` and SQLAlchemy's
    reading is impossible (no parse, a host that is no host name, an ``@`` in
    the database name). An ``@`` in the query (``?application_name=a@b``)
    leaves a sound reading alone."""
    parts = split_userinfo(url)
    if parts is None or parts.password is None or "@" not in parts.password:
        return False
    parsed = _sqlalchemy_url(url)
    if parsed is None:
        return True
    host_ok = _HOST.fullmatch(parsed.host or "") is not None
    return not host_ok or "@" in (parsed.database or "")


def normalize_url(url: str) -> str:
    """``url`` with any ``@`` in its user or password percent-encoded (``%40``),
    so that SQLAlchemy reads the same user, password and host as a person
    does. URLs that SQLAlchemy already reads right are returned unchanged."""
    parts = split_userinfo(url)
    if parts is None or parts.user is None or not _misread(url):
        return url
    user = parts.user.replace("@", "%40")
    password = "" if parts.password is None else ":" + parts.password.replace("@", "%40")
    return f"{parts.scheme}://{user}{password}@{parts.rest}"


def masked_url(url: str) -> str:
    """``url`` with its password shown as ``***``, for messages, logs and the
    dashboard; an unparseable URL gives ``<invalid database URL>``."""
    parsed = _sqlalchemy_url(normalize_url(url))
    if parsed is None or _HOST.fullmatch(parsed.host or "") is None:
        return INVALID
    if parsed.get_backend_name() == "sqlite":
        return url
    return parsed.render_as_string(hide_password=True)


def secrets_of(url: str) -> set[str]:
    """Every written form of ``url``'s password (as written, decoded,
    percent-encoded); empty without a password."""
    found: set[str] = set()
    if _misread(url):
        parts = split_userinfo(url)
        if parts is not None and parts.password:
            found |= {parts.password, quote(parts.password, safe="")}
    parsed = _sqlalchemy_url(normalize_url(url))
    if parsed is not None and parsed.password:
        pw = str(parsed.password)
        found |= {pw, quote(pw, safe=""), quote(pw, safe="/:?=&"), unquote(pw)}
    return {s for s in found if s}


def scrub(text: str, urls: str | list[str] | tuple[str, ...] | set[str]) -> str:
    """``text`` with the password of each URL in ``urls`` replaced by ``***``.

    Passwords shorter than :data:`MIN_SCRUB` characters are left alone: hiding
    every "a" of a message would make it unreadable and protect nothing."""
    if isinstance(urls, str):
        urls = [urls]
    secrets: set[str] = set()
    for u in urls:
        secrets |= secrets_of(u)
    for s in sorted((s for s in secrets if len(s) >= MIN_SCRUB), key=len, reverse=True):
        text = text.replace(s, MASK)
    return text
