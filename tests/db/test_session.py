"""Database URLs shown to people never carry the password."""

from __future__ import annotations

from db.session import masked_url


def test_masked_url_hides_the_password_only() -> None:
    shown = masked_url("postgresql+psycopg2://bw:s3cret@db.example:5432/bubblewatch")
    assert "s3cret" not in shown
    assert shown == "postgresql+psycopg2://bw:***@db.example:5432/bubblewatch"
    assert masked_url("sqlite:////var/lib/bw.sqlite") == "sqlite:////var/lib/bw.sqlite"


def test_an_unparseable_url_is_not_echoed() -> None:
    assert masked_url("not a url with pa55word") == "<invalid database URL>"
