"""Settings: environment variables over an optional TOML file over defaults.

Every setting can be given as an environment variable with the prefix
``BUBBLEWATCH_`` and ``__`` between nested names, e.g.
``BUBBLEWATCH_DATABASE_URL`` or ``BUBBLEWATCH_SEC__USER_AGENT``. The TOML file
is ``bubblewatch.toml`` in the working directory, or the path in
``BUBBLEWATCH_CONFIG``; its tables mirror the groups below (``[sec]``,
``[smtp]``...) plus ``[universe]`` (see :mod:`bubblewatch.core.universe`).

Secrets (SMTP password) are :class:`~pydantic.SecretStr`: they print as
``**********`` in logs, the CLI and the dashboard.
"""

from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bubblewatch.core.errors import ConfigError
from bubblewatch.core.universe import Universe, universe_from_config

CONFIG_ENV = "BUBBLEWATCH_CONFIG"
DEFAULT_CONFIG_FILE = "bubblewatch.toml"


#: The shipped SEC User-Agent: a placeholder that bubblewatch refuses to send
#: (the SEC answers HTTP 403 to clients that do not name themselves).
PLACEHOLDER_SEC_USER_AGENT = "bubblewatch research contact@example.org"


class SecSettings(BaseModel):
    """SEC EDGAR access. The SEC asks for a User-Agent naming you and an e-mail
    ("Your Name your@email"); the placeholder default is refused until it is set.
    ``max_requests_per_second`` is one budget for every process sharing the cache folder."""

    user_agent: str = PLACEHOLDER_SEC_USER_AGENT
    base_url: str = "https://data.sec.gov"
    max_requests_per_second: float = Field(8.0, gt=0, le=10)
    timeout_s: float = Field(20.0, gt=0)
    retries: int = Field(3, ge=0)


class MarketSettings(BaseModel):
    """Daily prices: Yahoo Finance (yfinance) first, then, for a symbol Yahoo
    fails on, the ``fallback`` source (Nasdaq's keyless historical-quote API)."""

    #: Probed before a run (yfinance itself always talks to Yahoo's own hosts).
    base_url: str = "https://query2.finance.yahoo.com"
    start: str = "1990-01-01"
    retries: int = Field(3, ge=0)
    backoff_s: float = Field(2.0, ge=0)
    timeout_s: float = Field(10.0, gt=0)
    fallback: Literal["nasdaq", "none"] = "nasdaq"
    fallback_base_url: str = "https://api.nasdaq.com"
    #: Nasdaq's API leaves clients that do not look like a browser without an answer.
    fallback_user_agent: str = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36"
    )
    fallback_max_requests_per_second: float = Field(2.0, gt=0, le=10)


class SmtpSettings(BaseModel):
    host: str = "localhost"
    port: int = 25
    security: Literal["plain", "starttls", "ssl"] = "plain"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "bubblewatch@localhost"
    timeout_s: float = 10.0
    #: PEM bundle of CA certificates trusted in addition to the system ones, for a relay
    #: whose certificate comes from a private CA (``starttls`` and ``ssl`` only).
    ca_file: Path | None = None


class SlackSettings(BaseModel):
    timeout_s: float = 10.0


class DashboardSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(8501, ge=1, le=65535)
    base_url: str = "http://127.0.0.1:8501"
    cache_ttl_s: int = Field(300, ge=0)


class SchedulerSettings(BaseModel):
    timezone: str = "America/New_York"
    prices_cron: str = "30 17 * * mon-fri"
    fundamentals_cron: str = "0 6 * * *"
    compute_cron: str = "0 18 * * mon-fri"
    misfire_grace_s: int = 3600


class AlertSettings(BaseModel):
    rules_file: Path | None = None


class Settings(BaseSettings):
    """All settings. Build with :func:`get_settings` (cached)."""

    model_config = SettingsConfigDict(
        env_prefix="BUBBLEWATCH_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Path("data")
    cache_dir: Path | None = None
    database_url: str | None = None
    log_level: str = "INFO"
    sec: SecSettings = SecSettings()
    market: MarketSettings = MarketSettings()
    smtp: SmtpSettings = SmtpSettings()
    slack: SlackSettings = SlackSettings()
    dashboard: DashboardSettings = DashboardSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    alerts: AlertSettings = AlertSettings()
    universe_config: dict[str, Any] = Field(default_factory=dict, alias="universe")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_path()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def resolved_database_url(self) -> str:
        """``database_url`` or a SQLite file ``<data_dir>/bubblewatch.sqlite``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'bubblewatch.sqlite').resolve()}"

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or (self.data_dir / "cache")

    @property
    def universe(self) -> Universe:
        return universe_from_config(self.universe_config)


def config_path() -> Path | None:
    """The TOML settings file in use, if any."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        p = Path(env)
        if not p.is_file():
            raise ConfigError(f"{CONFIG_ENV} points to {p}, which does not exist")
        return p
    p = Path(DEFAULT_CONFIG_FILE)
    return p if p.is_file() else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process; tests call ``get_settings.cache_clear()``."""
    try:
        return Settings()
    except ValidationError as exc:
        where = config_path() or "environment"
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"invalid settings in {where}: " + "; ".join(lines)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path()}: not valid TOML: {exc}") from exc
