"""Property-based fuzzing of the alert rules file: any bytes, and any mutation
of the shipped rules, give either a rule book (with its problems located) or
one :class:`ConfigError`, never another exception."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.config import default_rules_text, load_rulebook
from bubblewatch.core.errors import ConfigError
from bubblewatch.core.universe import default_universe

DEFAULT = default_rules_text()
LINES = DEFAULT.splitlines(keepends=True)
#: Values a careless edit puts on the right of ``=``.
ODD_VALUES = ['"', "nan", "inf", "-inf", "1e400", "99999999999999999999999999", '""', "[]",
              "{}", "true", '"\\u0000"', "'''", "2026-13-45", '"../../etc/passwd"',
              '"[link](http://evil.example)"', "0x10", "-0", '"é"', "[1, \"a\"]"]

FUZZ = settings(max_examples=200, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _load(raw: bytes, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "rules.toml"
    path.write_bytes(raw)
    try:
        return load_rulebook(path, universe=default_universe(), environ={})
    except ConfigError as exc:
        assert str(exc) and "\n" not in str(exc).strip(), str(exc)  # one line
        return None


@FUZZ
@given(raw=st.binary(max_size=2000))
def test_any_bytes_give_a_rulebook_or_one_config_error(raw: bytes, tmp_path: Path) -> None:
    book = _load(raw, tmp_path)  # any other exception fails the test
    if book is not None:  # bytes that parse as TOML: each problem is located and worded
        for p in book.problems:
            assert p.line >= 0 and p.message, p


@FUZZ
@given(line=st.integers(0, len(LINES) - 1), value=st.sampled_from(ODD_VALUES),
       drop=st.booleans())
def test_mutated_rules_name_the_broken_line(line: int, value: str, drop: bool,
                                           tmp_path: Path) -> None:
    lines = list(LINES)
    if drop:
        del lines[line]
    else:
        lines[line] = re.sub(r"=.*", lambda _m: f"= {value}", lines[line], count=1)
    book = _load("".join(lines).encode(), tmp_path)
    if book is not None:
        for p in book.problems:  # every problem says where it is
            assert 0 <= p.line <= len(lines) + 1 and p.message, p


def test_the_shipped_rules_load_cleanly(tmp_path: Path) -> None:
    book = _load(DEFAULT.encode(), tmp_path)
    assert book is not None and book.problems == () and len(book.rules) > 5
