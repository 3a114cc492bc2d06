"""Settings: environment variables over an optional TOML file over defaults.

Every setting can be given as an environment variable with the prefix
``BUBBLEWATCH_`` and ``__`` between nested names, e.g.
``BUBBLEWATCH_DATABASE_URL`` or ``BUBBLEWATCH_SEC__USER_AGENT``. The TOML file
is ``bubblewatch.toml`` in the working directory, or the path in
``BUBBLEWATCH_CONFIG``; its tables mirror the groups below (``[sec]``,
``[smtp]``...) plus ``[universe]`` (see :mod:`bubblewatch.core.universe`) and
``[[events]]``, the user's own dated events (see :class:`EventEntry`).

Secrets (SMTP password) are :class:`~pydantic.SecretStr`: they print as
``**********`` in logs, the CLI and the dashboard.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bubblewatch.core import dburl
from bubblewatch.core.errors import ConfigError
from bubblewatch.core.universe import Universe, universe_from_config
from bubblewatch.core.universe_files import load_named, read_universe_file

CONFIG_ENV = "BUBBLEWATCH_CONFIG"
DEFAULT_CONFIG_FILE = "bubblewatch.toml"
ENV_PREFIX = "BUBBLEWATCH_"

#: Accepted ``log_level`` values (case does not matter).
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def check_log_level(value: str) -> str:
    """``value`` upper-cased if it is one of :data:`LOG_LEVELS`, else ValueError."""
    level = str(value).strip().upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"unknown log level {value!r}; use one of {', '.join(LOG_LEVELS)}")
    return level


def check_timezone(value: str) -> str:
    """``value`` if it names an IANA time zone (``America/New_York``, ``UTC``)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as "
                         "America/New_York, Europe/London or UTC") from None
    return value


def check_cron(value: str) -> str:
    """``value`` if it is a five-field crontab expression APScheduler accepts."""
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(value, timezone="UTC")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{value!r} is not a cron expression ({exc}); write five fields "
                         "'minute hour day month day-of-week', e.g. '30 17 * * mon-fri'") from None
    return value


def check_database_url(value: str | None) -> str | None:
    """``value`` with an unencoded ``@`` in its password encoded (see
    :mod:`bubblewatch.core.dburl`), if SQLAlchemy can parse it and knows its
    database kind. The URL itself is never echoed (it may hold a password)."""
    if value is None or not str(value).strip():
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    url = dburl.normalize_url(str(value).strip())
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError("not a database URL; use sqlite:///PATH/FILE.sqlite or "
                         "postgresql://USER:PASSWORD@HOST:PORT/DATABASE") from None
    if "@" in (parsed.host or ""):
        raise ValueError(f"{dburl.masked_url(url)}: the host contains '@'; write the user "
                         "name without '@' or encode it as %40")
    try:
        parsed.get_dialect()
    except NoSuchModuleError:
        raise ValueError(f"unknown database kind {parsed.drivername!r} in "
                         f"{dburl.masked_url(url)}; use sqlite:///PATH or postgresql://... "
                         "(postgres:// is not accepted: write postgresql://)") from None
    return url


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
    #: Download threads and symbols per chunk of a Yahoo run (a rate limit pauses all threads).
    threads: int = Field(4, ge=1, le=32)
    chunk_size: int = Field(50, ge=1)


class SmtpSettings(BaseModel):
    """The SMTP relay for e-mail alerts.

    A login (``username``/``password``) is only sent over TLS (``starttls`` or
    ``ssl``); with ``security = "plain"`` the e-mail channel refuses to send the
    password in clear unless ``allow_plaintext_password`` says the network to
    the relay is trusted.
    """

    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    security: Literal["plain", "starttls", "ssl"] = "plain"
    username: str | None = None
    password: SecretStr | None = None
    #: Send the login over an unencrypted connection (``security = "plain"``):
    #: anyone on the path can read the password. Only for a relay on a trusted network.
    allow_plaintext_password: bool = False
    sender: str = "bubblewatch@localhost"
    timeout_s: float = Field(10.0, gt=0)
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
    """Cron times (five-field crontab, in ``timezone``) and run rules. Cron
    strings and the time zone are checked when the settings are read, so a
    typo stops every command with one line instead of a scheduler that starts
    and dies."""

    timezone: str = "America/New_York"
    prices_cron: str = "30 17 * * mon-fri"
    fundamentals_cron: str = "0 6 * * *"
    compute_cron: str = "0 18 * * mon-fri"
    misfire_grace_s: int = Field(3600, ge=1)
    #: On SIGTERM/Ctrl-C, seconds to let a running job finish before the
    #: scheduler stops without it (its transaction rolls back, its run-log row
    #: is closed as ``interrupted``).
    stop_timeout_s: float = Field(10.0, ge=0)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("prices_cron", "fundamentals_cron", "compute_cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)


class DaskSettings(BaseModel):
    """Distributed compute (:mod:`indicators.distributed`).

    ``address`` names a running Dask scheduler (``tcp://host:8786``); without
    one, ``bubblewatch compute`` starts a ``LocalCluster`` of ``n_workers``
    processes with ``threads_per_worker`` threads each (default: one process
    per core, one thread each). Runs over fewer than ``min_symbols`` symbols
    stay in the calling process (``in_process``: ``"auto"``), because starting
    worker processes and importing numba in each costs about 3-5 s, which a
    small universe never wins back (the default universe computes in about 1 s
    a day incrementally). ``in_process = "always"`` never starts a cluster,
    ``"never"`` always does.
    """

    address: str | None = None
    n_workers: int | None = Field(None, ge=1)
    threads_per_worker: int = Field(1, ge=1)
    in_process: Literal["auto", "always", "never"] = "auto"
    min_symbols: int = Field(200, ge=0)
    #: Symbols per task; None sizes batches so that each task takes >= 100 ms.
    batch_size: int | None = Field(None, ge=1)
    #: Seconds to wait for the scheduler before giving up with an error.
    connect_timeout_s: float = Field(5.0, gt=0)


class AlertSettings(BaseModel):
    rules_file: Path | None = None


#: What kind of news a dated event is; the event study reads "shrugging off" per category.
#: Each category's name for people is in :data:`EVENT_CATEGORY_LABELS`, right below.
EventCategory = Literal[
    "export_control",        # US controls on chip exports (rules, licence requirements, guidance)
    "china_policy",          # China's own steps: regulators, purchase bans, industrial plans
    "demand_shock",          # news that questions the demand for AI compute (DeepSeek)
    "financing",             # investment commitments and circular deals (Stargate)
    "earnings",              # results, guidance and profit warnings
    "dotcom_turning_point",  # turning points of the dot-com cycle that are no single company's
    "market_peak_trough",    # record closes and bear-market lows
    "listing",               # IPOs
    "product_launch",        # products that moved the cycle (ChatGPT)
    "monetary_policy",       # central-bank words and decisions
]
EVENT_CATEGORIES: tuple[str, ...] = get_args(EventCategory)
#: People's name of each event category (what pages, charts and messages show;
#: files and the command line keep the keys). One entry per :data:`EVENT_CATEGORIES`.
EVENT_CATEGORY_LABELS: dict[str, str] = {
    "export_control": "US export controls",
    "china_policy": "China policy",
    "demand_shock": "Demand shock",
    "financing": "Financing",
    "earnings": "Earnings and warnings",
    "dotcom_turning_point": "Dot-com turning point",
    "market_peak_trough": "Market peak or trough",
    "listing": "Listing (IPO)",
    "product_launch": "Product launch",
    "monetary_policy": "Monetary policy",
}
#: Which cycle an event belongs to.
EventEra = Literal["dotcom", "ai", "other"]


class EventEntry(BaseModel):
    """One dated event: a built-in one (``ingest/reference_data/events.toml``) or
    one of the user's ``[[events]]`` tables in the settings file::

        [[events]]
        key = "my_event"            # lower-case letters, digits, "_"; unique
        date = 2025-03-03           # the day the news became public (New York)
        title = "..."
        category = "export_control" # one of EVENT_CATEGORIES
        description = "..."
        source = "https://..."      # where the date comes from
        era = "ai"                  # optional: "dotcom", "ai" or "other" (default)
        after_close = false         # optional: true when it came after the US close

    A user event whose key is also a built-in one is refused when the two lists
    are merged (:func:`ingest.reference.all_events`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$", max_length=64)
    date: dt.date
    title: str = Field(min_length=1, max_length=255)
    category: EventCategory
    description: str = ""
    source: str = Field(min_length=1)
    era: EventEra = "other"
    after_close: bool = False

    @field_validator("title", "source")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v


class Settings(BaseSettings):
    """All settings. Build with :func:`get_settings` (cached)."""

    model_config = SettingsConfigDict(
        env_prefix="BUBBLEWATCH_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    data_dir: Path = Path("data")
    cache_dir: Path | None = None
    #: A secret: it may hold a password, so it prints as ``**********``.
    database_url: SecretStr | None = None
    log_level: str = "INFO"
    sec: SecSettings = SecSettings()
    market: MarketSettings = MarketSettings()
    smtp: SmtpSettings = SmtpSettings()
    slack: SlackSettings = SlackSettings()
    dashboard: DashboardSettings = DashboardSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    alerts: AlertSettings = AlertSettings()
    #: Where people reach the dashboard (``BUBBLEWATCH_PUBLIC_URL``), e.g.
    #: ``https://bubblewatch.example.org``. Alert links point there; without it
    #: alerts carry no link (a 127.0.0.1 link is useless off this host).
    public_url: str | None = None
    dask: DaskSettings = DaskSettings()
    universe_config: dict[str, Any] = Field(default_factory=dict, alias="universe")
    #: The user's own dated events (``[[events]]`` tables), beside the built-in ones.
    events: list[EventEntry] = Field(default_factory=list)

    @field_validator("events")
    @classmethod
    def _unique_event_keys(cls, v: list[EventEntry]) -> list[EventEntry]:
        seen: set[str] = set()
        for e in v:
            if e.key in seen:
                raise ValueError(f"event key {e.key!r} appears twice in [[events]]; "
                                 "give each event its own key")
            seen.add(e.key)
        return v

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: object) -> object:
        raw = value.get_secret_value() if isinstance(value, SecretStr) else value
        return check_database_url(raw) if raw is None or isinstance(raw, str) else value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        return check_log_level(value)

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        v = v.strip()
        if not v.startswith(("http://", "https://")) or len(v.split("://", 1)[1]) == 0:
            raise ValueError(f"{v!r} is not an http(s) URL; give the address people open the "
                             "dashboard at, e.g. https://bubblewatch.example.org")
        return v.rstrip("/")

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
        if self.database_url is not None and self.database_url.get_secret_value():
            return self.database_url.get_secret_value()
        return f"sqlite:///{(self.data_dir / 'bubblewatch.sqlite').resolve()}"

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or (self.data_dir / "cache")

    @cached_property
    def universe(self) -> Universe:
        """The default universe changed by ``[universe]``; with ``file = PATH``
        or ``name = NAME`` (a universe stored by ``bubblewatch universe add``
        under ``<data_dir>/universes/``) its members are added to it."""
        u = universe_from_config(self.universe_config)
        cfg = self.universe_config
        if cfg.get("file") or cfg.get("name"):
            uf = (read_universe_file(Path(str(cfg["file"]))) if cfg.get("file")
                  else load_named(str(cfg["name"]), self.universes_dir))
            u = u.with_members(uf.name, uf.instruments(), uf.memberships())
        return u

    @property
    def universes_dir(self) -> Path:
        """Where ``bubblewatch universe add`` keeps universe files."""
        return self.data_dir / "universes"


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


def env_name(loc: tuple[Any, ...]) -> str:
    """The environment variable of a settings field: ``("smtp", "port")`` ->
    ``BUBBLEWATCH_SMTP__PORT``."""
    return ENV_PREFIX + "__".join(str(p) for p in loc).upper()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings read once per process; tests call ``get_settings.cache_clear()``."""
    try:
        return Settings()
    except ValidationError as exc:
        where = config_path() or "environment"
        lines = []
        for e in exc.errors():
            loc = tuple(e["loc"])
            msg = str(e["msg"]).removeprefix("Value error, ")
            dotted = ".".join(map(str, loc))
            if not any(isinstance(p, int) for p in loc):  # entries of TOML lists have no variable
                dotted += f" ({env_name(loc)})"
            lines.append(f"{dotted}: {msg}")
        raise ConfigError(f"invalid settings in {where}: " + "; ".join(lines)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path()}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        line = exc.object.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{config_path()}:{line}: not UTF-8 text (byte "
                          f"0x{exc.object[exc.start]:02x}); save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"cannot read the settings file {config_path()}: "
                          f"{exc.strerror or exc}") from None
