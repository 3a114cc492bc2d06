"""The README's PostgreSQL URL, ``postgresql://USER:PASSWORD@HOST:PORT/DB``,
works as written (psycopg 3, SQLAlchemy's default driver for it) beside
``postgresql+psycopg2://``, against a server that checks passwords, with a
password that holds an unencoded ``@``; a wrong password is one line that
never shows it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from bubblewatch.app.cli import app
from bubblewatch.core.settings import get_settings
from db.session import dispose_all
from tests.db.pg_server import postgres_server

pytestmark = pytest.mark.postgres

PASSWORD = "pg@ss:w/rd#1"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """``host:port`` of a PostgreSQL server where ``postgres`` logs in with PASSWORD."""
    with postgres_server(password=PASSWORD) as url:
        yield re.search(r"@(127\.0\.0\.1:\d+)/", url).group(1)  # type: ignore[union-attr]
        dispose_all()


def bubblewatch(monkeypatch: pytest.MonkeyPatch, url: str, *args: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BUBBLEWATCH_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg2"])
def test_readme_url_with_an_unencoded_at_in_the_password(
        server: str, scheme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"{scheme}://postgres:{PASSWORD}@{server}/postgres"  # exactly as a person writes it
    init = bubblewatch(monkeypatch, url, "init")
    assert init.exit_code == 0, init.output
    assert f"database ready: {scheme}://postgres:***@{server}/postgres" in init.stdout
    status = bubblewatch(monkeypatch, url, "status", "--json")
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["database"] == f"{scheme}://postgres:***@{server}/postgres"
    for secret in (PASSWORD, "ss:w/rd", "pg@ss"):
        assert secret not in init.output + status.output


@pytest.mark.parametrize("scheme", ["postgresql", "postgresql+psycopg2"])
def test_a_wrong_password_is_one_line_without_it(
        server: str, scheme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    wrong = "n0t@the-password"
    result = bubblewatch(monkeypatch, f"{scheme}://postgres:{wrong}@{server}/postgres", "status")
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert lines[0].startswith(f"error: {scheme}://postgres:***@{server}/postgres refused the "
                               "login (")
    assert "password authentication failed" in lines[0]
    assert "n0t" not in result.output and "the-password" not in result.output
