"""Database URLs: read as people write them (an unencoded @ in the password),
shown and logged without the password; database errors in words."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from bubblewatch.core.dburl import normalize_url, scrub, secrets_of
from db.session import masked_url


def test_masked_url_hides_the_password_only() -> None:
    shown = masked_url("postgresql+psycopg2://bw:s3cret@db.example:5432/bubblewatch")
    assert "s3cret" not in shown
    assert shown == "postgresql+psycopg2://bw:***@db.example:5432/bubblewatch"
    assert masked_url("sqlite:////var/lib/bw.sqlite") == "sqlite:////var/lib/bw.sqlite"


def test_an_unparseable_url_is_not_echoed() -> None:
    assert masked_url("not a url with pa55word") == "<invalid database URL>"


# --------------------------------------------------------------------------- passwords with @


@pytest.mark.parametrize(("url", "user", "password", "host"), [
    ("postgresql://bw:p@ss@db.example:5432/bw", "bw", "p@ss", "db.example"),
    ("postgresql://bw:a@b@c@db.example/bw", "bw", "a@b@c", "db.example"),
    ("postgresql+psycopg2://bw:pa:ss/w?rd@db.example/bw", "bw", "pa:ss/w?rd", "db.example"),
    ("postgresql://bw:p%40ss@db.example/bw", "bw", "p@ss", "db.example"),  # already encoded
    ("postgresql://bw@db.example/bw", "bw", None, "db.example"),
])
def test_user_and_password_run_to_the_last_at(url: str, user: str, password: str | None,
                                              host: str) -> None:
    """Python's own URL parser (the oracle) reads userinfo up to the last @."""
    from sqlalchemy.engine import make_url

    fixed = make_url(normalize_url(url))
    assert (fixed.username, fixed.password, fixed.host) == (user, password, host)
    oracle = urlsplit(url.split("+psycopg2", 1)[-1] if "+psycopg2" in url else url)
    if "?" not in url and "%" not in url:
        assert (oracle.username, oracle.password, oracle.hostname) == (user, password, host)


def test_masked_url_never_shows_a_password_tail() -> None:
    url = "postgresql+psycopg2://bw:s3cret@tail@db.example:5432/bubblewatch"
    shown = masked_url(url)
    assert shown == "postgresql+psycopg2://bw:***@db.example:5432/bubblewatch"
    assert "tail" not in shown and "s3cret" not in shown
    assert normalize_url("sqlite:////data/a@b/bw.sqlite") == "sqlite:////data/a@b/bw.sqlite"
    assert masked_url("sqlite:////data/a@b/bw.sqlite") == "sqlite:////data/a@b/bw.sqlite"


def test_driver_text_is_scrubbed_of_every_form_of_the_password() -> None:
    url = "postgresql://bw:p@ss w/rd@db.example/bw"
    assert {"p@ss w/rd", "p%40ss%20w%2Frd"} <= secrets_of(url)
    text = 'FATAL: password "p@ss w/rd" (p%40ss%20w%2Frd) rejected for bw'
    assert scrub(text, url) == 'FATAL: password "***" (***) rejected for bw'
    assert scrub("x a y", "postgresql://bw:a@db/bw") == "x a y"  # one-letter passwords: no


def test_explain_names_the_fix_for_sqlite_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from db.session import dispose_all, explain, get_engine

    url = f"sqlite:///{tmp_path}/e.sqlite"
    try:
        with get_engine(url).connect() as conn:
            conn.execute(text("SELECT * FROM market_price"))
    except Exception as exc:  # noqa: BLE001
        known = explain(exc, url)
    assert known is not None and str(known) == (
        f"{url} has no table market_price (no such table: market_price); run "
        "`bubblewatch init` to create or update the schema")
    try:
        with get_engine(url).connect() as conn:
            conn.execute(text("SELEC 1"))
    except Exception as exc:  # noqa: BLE001 - a programming error keeps its traceback
        assert explain(exc, url) is None or "syntax error" in str(explain(exc, url))
    assert explain(ValueError("connection refused"), url) is None
    dispose_all()
