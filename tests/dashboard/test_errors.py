"""Failures and untrusted words on the dashboard: a database error shows one
message saying what to fix (never a traceback, never the password), and text
from the rules file (rule descriptions, band labels, in alert titles and
explanations) is shown as written, never as live Markdown."""

from __future__ import annotations

import html
import re
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from markdown_it import MarkdownIt

from dashboard.chrome import plain
from tests.dashboard.conftest import APP, _copy_sqlite

ROGUE = ("See [the report](http://evil.example/x) <http://evil.example/y> www.evil.example "
         "mail@evil.example **now** _it_ `code` $x^2$ :red[alarm] :material/home: <b>html</b>")


def rendered(markdown: str) -> str:
    """CommonMark HTML of ``markdown`` (the oracle for what a reader sees)."""
    return MarkdownIt("commonmark").render(markdown)


def text_of(markdown: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", rendered(markdown))).strip()


@pytest.mark.parametrize("text", [
    ROGUE, "1. not a list", "- not a bullet", "# not a heading", "a < b > c & d", "back\\slash",
    "NVDA: explosive episode started 2026-08-21.", "line one\nline two",
])
def test_plain_text_renders_as_written(text: str) -> None:
    out = rendered(plain(text))
    assert out.startswith("<p>") and out.count("<p>") == 1
    assert not re.search(r"<(a|em|strong|code|b|h\d|ol|ul|li)\b", out), out
    assert text_of(plain(text)) == " ".join(text.split())


def test_plain_text_leaves_ordinary_punctuation_alone() -> None:
    assert plain("NVDA: explosive episode started 2026-08-21.") == (
        "NVDA: explosive episode started 2026-08-21.")


def run_app(use_db: Callable[[str], None], url: str) -> Any:
    from streamlit.testing.v1 import AppTest

    use_db(url)
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_rules_file_text_is_plain_on_the_overview(
        use_db: Callable[[str], None], dashboard_db: tuple[str, dict[str, Any]],
        tmp_path: Path) -> None:
    url = _copy_sqlite(dashboard_db[0], tmp_path / "rogue.sqlite")
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute("UPDATE alert_event SET title = ?, explanation = ? WHERE dedupe_key = 't1'",
                     (f"NVDA: band {ROGUE}", f"Rule text: {ROGUE}"))
    at = run_app(use_db, url)
    shown = [e.value for e in (*at.markdown, *at.caption) if "evil" in str(e.value)]
    assert len(shown) == 2, shown  # the title and the explanation
    for md in shown:
        out = rendered(md.split("**", 1)[1].rsplit("**", 1)[0] if "**" in md else md)
        assert "<a " not in out and "<em>" not in out and "<code>" not in out
        assert ROGUE in html.unescape(re.sub(r"<[^>]+>", "", out))


def test_a_missing_table_is_one_message(use_db: Callable[[str], None],
                                        dashboard_db: tuple[str, dict[str, Any]],
                                        tmp_path: Path) -> None:
    url = _copy_sqlite(dashboard_db[0], tmp_path / "broken.sqlite")
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        conn.execute("DROP TABLE fundamental_fact")
    at = run_app(use_db, url)
    (box,) = [e.value for e in at.error]
    assert box.startswith("**The database could not be read.** ")
    assert "has no table fundamental\\_fact" in box and "bubblewatch init" in box
    assert "Traceback" not in box


def test_an_unreachable_server_is_one_message_without_the_password(
        use_db: Callable[[str], None]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    at = run_app(use_db, f"postgresql://bw:s3cr@t-pw@127.0.0.1:{port}/bw")
    (box,) = [e.value for e in at.error]
    assert "cannot reach the database server of" in text_of(box)
    assert f"postgresql://bw:***@127.0.0.1:{port}/bw" in text_of(box)
    assert "s3cr" not in box and "t-pw" not in box
