"""Settings: environment over TOML over defaults; errors name the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from bubblewatch.core.errors import ConfigError
from bubblewatch.core.settings import Settings, get_settings


def test_env_overrides_toml_overrides_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "bw.toml"
    cfg.write_text(
        'database_url = "sqlite:///from-toml.sqlite"\n'
        "[sec]\nuser_agent = \"toml agent a@b.c\"\nmax_requests_per_second = 5\n"
        "[smtp]\npassword = \"hunter2\"\n"
        '[universe]\nsymbols = ["NVDA", "csco", "IXIC"]\n'
    )
    monkeypatch.setenv("BUBBLEWATCH_CONFIG", str(cfg))
    monkeypatch.setenv("BUBBLEWATCH_SEC__USER_AGENT", "env agent x@y.z")
    s = Settings()
    assert s.resolved_database_url == "sqlite:///from-toml.sqlite"
    assert s.sec.user_agent == "env agent x@y.z"  # env wins
    assert s.sec.max_requests_per_second == 5  # TOML over default
    assert s.universe.symbols == ["NVDA", "CSCO", "^IXIC"]  # universe order, names resolved
    assert "hunter2" not in repr(s) and "hunter2" not in str(s.smtp)


def test_default_database_is_sqlite_in_the_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BUBBLEWATCH_DATA_DIR", str(tmp_path / "d"))
    s = Settings()
    assert s.resolved_database_url == f"sqlite:///{(tmp_path / 'd' / 'bubblewatch.sqlite').resolve()}"


def test_invalid_settings_name_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUBBLEWATCH_SEC__MAX_REQUESTS_PER_SECOND", "50")
    get_settings.cache_clear()
    with pytest.raises(ConfigError, match=r"sec\.max_requests_per_second"):
        get_settings()
    get_settings.cache_clear()


def test_unknown_universe_symbol_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "bw.toml"
    cfg.write_text('[universe]\nsymbols = ["NVDA", "NOPE"]\n')
    monkeypatch.setenv("BUBBLEWATCH_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match="NOPE"):
        _ = Settings().universe
