"""Settings: read once at start, frozen after (DESIGN §3).

Sources, strongest first: command line (passed in as overrides), environment variables, `.env`,
a TOML file (`--config`, default `config.toml` when present), defaults. Names are case-insensitive
with no prefix. Any bad value becomes a `ConfigError` naming the setting, which `main.py` turns into
exit code 2 and one line. A misspelled name (an unknown key in the TOML file or `.env`, an environment
variable that is a near miss of a setting) is an error too, and so is a database URL or log path that cannot
be used (`bot/config_checks.py`).

This module is the model (fields, defaults, cross-field rules, derived views) and `load_settings`; the
watchlist entry model, the parsers and single-value checks, and the error translation are in
`bot/config_parse.py` (re-exported here).
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from bot.config_checks import check_names, database_url_problem, path_problem
from bot.config_parse import (
    DEFAULT_WATCHLIST,
    LOG_LEVELS,
    WatchEntry,
    as_config_error,
    first_line,
    known_level,
    known_timezone,
    parse_params,
    parse_watchlist,
    setting_from_text,
    unique_instruments,
)
from bot.domain import ProtectionSettings, WatchItem
from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.hours.gate import FixedWindow

SIM_BASE_URL = "https://gateway.saxobank.com/sim/openapi"
LIVE_BASE_URL = "https://gateway.saxobank.com/openapi"
SIM_AUTH_BASE_URL = "https://sim.logonvalidation.net"
LIVE_AUTH_BASE_URL = "https://live.logonvalidation.net"

__all__ = [
    "DEFAULT_WATCHLIST",
    "LIVE_AUTH_BASE_URL",
    "LIVE_BASE_URL",
    "LOG_LEVELS",
    "SIM_AUTH_BASE_URL",
    "SIM_BASE_URL",
    "Settings",
    "WatchEntry",
    "load_settings",
]

_toml_path: ContextVar[Path | None] = ContextVar("_toml_path", default=None)
_env_file: ContextVar[Path | None] = ContextVar("_env_file", default=Path(".env"))


class Settings(BaseSettings):
    """Every setting of DESIGN §3. Frozen: nothing changes them after start."""

    model_config = SettingsConfigDict(
        case_sensitive=False,
        frozen=True,
        extra="ignore",
        env_file_encoding="utf-8",
        validate_default=True,
    )

    saxo_env: Literal["local", "sim", "live"] | None = None
    saxo_base_url: str | None = None
    saxo_auth_mode: Literal["manual", "oauth"] = "manual"
    saxo_access_token: SecretStr | None = None
    saxo_app_key: str | None = None
    saxo_app_secret: SecretStr | None = None
    saxo_redirect_uri: str = "http://127.0.0.1:8765/callback"
    saxo_auth_base_url: str | None = None
    saxo_token_file: Path = Path("data/token.json")
    saxo_account_key: str | None = None

    watchlist: Annotated[tuple[WatchEntry, ...], NoDecode] = Field(
        default_factory=lambda: tuple(WatchEntry(**e) for e in DEFAULT_WATCHLIST)
    )
    trading_hours_mode: Literal["always", "fixed", "instrument"] = "always"
    trading_start: time = time(9, 30)
    trading_end: time = time(16, 0)
    timezone: str = "America/New_York"
    trading_calendar: str = "XNYS"
    trading_days: str = "mon-fri"

    dry_run: bool = False
    cycle_interval_seconds: float = Field(default=60.0, ge=1, le=7 * 24 * 3600, allow_inf_nan=False)
    default_quantity: Decimal = Field(default=Decimal(1), gt=0)
    allow_short: bool = False
    strategy: str = "ma_crossover"
    strategy_params: Annotated[dict[str, Any], NoDecode] = Field(default_factory=dict)

    # Protection (README "Protection"): related orders sent with each opening order; 0 = off.
    stop_loss_pct: Decimal = Field(default=Decimal(0), ge=0, lt=100, allow_inf_nan=False)
    take_profit_pct: Decimal = Field(default=Decimal(0), ge=0, allow_inf_nan=False)
    trailing_stop_pct: Decimal = Field(default=Decimal(0), ge=0, lt=100, allow_inf_nan=False)
    order_type: Literal["Market", "Limit"] = "Market"
    limit_offset_pct: Decimal = Field(default=Decimal(0), ge=0, lt=100, allow_inf_nan=False)
    limit_ttl_cycles: int = Field(default=3, ge=1, le=10000)
    risk_per_trade_pct: Decimal = Field(default=Decimal(0), ge=0, le=100, allow_inf_nan=False)

    max_open_positions: int = Field(default=20, ge=0)
    max_orders_per_cycle: int = Field(default=10, ge=0)
    max_exposure_pct_per_asset_type: Decimal = Field(default=Decimal(50), gt=0)
    daily_loss_limit: Decimal = Field(default=Decimal(0), ge=0)
    allow_live_trading: bool = False

    database_url: str = "sqlite:///data/bot.db"
    bars_database_url: str | None = None  # bar history for backtests; None: bars.db beside a SQLite DATABASE_URL
    db_retention_days: int = Field(default=90, ge=0, le=36500)  # 0 = keep forever
    jobstore_url: str = "sqlite:///data/jobs.db"
    jobstore_table: str = Field(default="apscheduler_jobs", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    kill_switch_file: Path = Path("data/STOP")

    log_level: str = "INFO"
    log_file: str = "data/bot.log"
    log_json: bool = False
    health_port: int = Field(default=0, ge=0, le=65535)

    notify_urls: SecretStr | None = None  # Apprise URLs, comma-separated (they carry tokens: kept secret)
    notify_events: str = ""  # comma-separated event names; empty = all
    notify_error_after: int = Field(default=3, ge=1, le=10000)

    # ---- parsing -------------------------------------------------------------------------------

    @field_validator("watchlist", mode="before")
    @classmethod
    def _parse_watchlist(cls, value: Any) -> Any:
        return parse_watchlist(value)

    @field_validator("watchlist")
    @classmethod
    def _unique_instruments(cls, value: tuple[WatchEntry, ...]) -> tuple[WatchEntry, ...]:
        return unique_instruments(value)

    @field_validator("strategy_params", mode="before")
    @classmethod
    def _parse_params(cls, value: Any) -> Any:
        return parse_params(value)

    @field_validator("trading_start", "trading_end", mode="before")
    @classmethod
    def _parse_hhmm(cls, value: Any) -> Any:
        if isinstance(value, str):
            from bot.hours.calendar import parse_hhmm

            return parse_hhmm(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        return known_timezone(value)

    @field_validator("trading_calendar")
    @classmethod
    def _known_calendar(cls, value: str) -> str:
        from bot.hours.calendar import get_calendar

        get_calendar(value)
        return value

    @field_validator("trading_days")
    @classmethod
    def _known_days(cls, value: str) -> str:
        from bot.hours.calendar import parse_days

        parse_days(value)
        return value

    @field_validator("database_url", "jobstore_url")
    @classmethod
    def _usable_database(cls, value: str) -> str:
        problem = database_url_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("log_file")
    @classmethod
    def _usable_log_file(cls, value: str) -> str:
        problem = path_problem(Path(value)) if value else None
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("notify_urls")
    @classmethod
    def _usable_notify_urls(cls, value: SecretStr | None) -> SecretStr | None:
        from bot.notify.urls import check_urls

        if value is not None:
            check_urls(value.get_secret_value())  # ValueError names the entry, never its text
        return value

    @field_validator("notify_events")
    @classmethod
    def _known_events(cls, value: str) -> str:
        from bot.notify.events import parse_events

        parse_events(value)
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        return known_level(value)

    @field_validator("order_type", mode="before")
    @classmethod
    def _order_type(cls, value: Any) -> Any:
        return value.strip().capitalize() if isinstance(value, str) else value

    @field_validator("saxo_env", "saxo_auth_mode", "trading_hours_mode", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _environment(self) -> Settings:
        if self.saxo_env is None:
            has_credentials = self.saxo_access_token is not None or self.saxo_app_key is not None
            object.__setattr__(self, "saxo_env", "sim" if has_credentials else "local")
        if self.saxo_env == "live" and not self.allow_live_trading:
            raise ConfigError("SAXO_ENV", "live means real money; refused unless ALLOW_LIVE_TRADING=true is also set")
        if self.saxo_base_url is None and self.saxo_env != "local":
            object.__setattr__(self, "saxo_base_url", SIM_BASE_URL if self.saxo_env == "sim" else LIVE_BASE_URL)
        if self.saxo_auth_base_url is None:
            auth = LIVE_AUTH_BASE_URL if self.saxo_env == "live" else SIM_AUTH_BASE_URL
            object.__setattr__(self, "saxo_auth_base_url", auth)
        if self.saxo_env != "local":
            if self.saxo_auth_mode == "manual" and self.saxo_access_token is None:
                raise ConfigError(
                    "SAXO_ACCESS_TOKEN",
                    f"required for SAXO_ENV={self.saxo_env} with SAXO_AUTH_MODE=manual "
                    "(paste the 24-hour developer token, or use SAXO_AUTH_MODE=oauth)",
                )
            if self.saxo_auth_mode == "oauth" and not self.saxo_app_key:
                raise ConfigError("SAXO_APP_KEY", "required for SAXO_AUTH_MODE=oauth")
        if self.trading_hours_mode == "fixed":
            self._check_window()
        self._check_protection()
        return self

    def _check_protection(self) -> None:
        """A stop is either fixed or trailing: both at once for an instrument is a configuration error."""
        for entry in (None, *self.watchlist):
            levels = self.protection_for(entry.asset_type + ":" + str(entry.uic)) if entry else self._protection()
            if levels.stop_loss_pct and levels.trailing_stop_pct:
                where = f" (watchlist entry {entry.symbol})" if entry else ""
                raise ConfigError("TRAILING_STOP_PCT", f"set STOP_LOSS_PCT or TRAILING_STOP_PCT, not both{where}")

    def _protection(self) -> ProtectionSettings:
        return ProtectionSettings(self.stop_loss_pct, self.take_profit_pct, self.trailing_stop_pct)

    def protection_for(self, instrument: str) -> ProtectionSettings:
        """STOP_LOSS_PCT, TAKE_PROFIT_PCT, TRAILING_STOP_PCT for one instrument (a watchlist entry's own win)."""
        base = self._protection()
        entry = next((e for e in self.watchlist if f"{e.asset_type}:{e.uic}" == instrument), None)
        if entry is None:
            return base
        return ProtectionSettings(
            base.stop_loss_pct if entry.stop_loss_pct is None else entry.stop_loss_pct,
            base.take_profit_pct if entry.take_profit_pct is None else entry.take_profit_pct,
            base.trailing_stop_pct if entry.trailing_stop_pct is None else entry.trailing_stop_pct,
        )

    def _check_window(self) -> None:
        try:
            self.fixed_window()
        except ValueError as exc:
            raise ConfigError("TRADING_END", str(exc)) from None

    # ---- derived views -------------------------------------------------------------------------

    @property
    def items(self) -> tuple[WatchItem, ...]:
        """The watchlist as domain items (quantity falls back to DEFAULT_QUANTITY)."""
        return tuple(
            WatchItem(e.asset_type, e.uic, e.symbol, e.quantity or self.default_quantity) for e in self.watchlist
        )

    def fixed_window(self) -> FixedWindow:
        """The `fixed` mode window: TRADING_START..TRADING_END on TRADING_DAYS in TIMEZONE, minus the calendar."""
        from bot.hours.calendar import get_calendar, parse_days
        from bot.hours.gate import FixedWindow

        return FixedWindow(
            start=self.trading_start,
            end=self.trading_end,
            tz=ZoneInfo(self.timezone),
            days=parse_days(self.trading_days),
            calendar=get_calendar(self.trading_calendar),
        )

    @property
    def notify_url_list(self) -> list[str]:
        from bot.notify.urls import split_urls

        return split_urls(self.notify_urls.get_secret_value()) if self.notify_urls is not None else []

    @property
    def is_live(self) -> bool:
        return self.saxo_env == "live"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        from pydantic_settings import DotEnvSettingsSource

        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            DotEnvSettingsSource(settings_cls, env_file=_env_file.get()),
        ]
        toml_path = _toml_path.get()
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)


def load_settings(
    config_path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    env_file: str | Path | None = ".env",
) -> Settings:
    """Build the frozen settings or raise `ConfigError` naming the first bad setting.

    `config_path` None means `config.toml` when it exists; an explicit path must exist.
    """
    if config_path is None:
        toml = Path("config.toml") if Path("config.toml").is_file() else None
    else:
        toml = Path(config_path)
        if not toml.is_file():
            raise ConfigError("--config", f"file not found: {toml}")
    check_names(set(Settings.model_fields), toml=toml, env_file=Path(env_file) if env_file else None)
    toml_token = _toml_path.set(toml)
    env_token = _env_file.set(Path(env_file) if env_file else None)
    try:
        return Settings(**(overrides or {}))
    except ValidationError as exc:
        raise as_config_error(exc) from None
    except SettingsError as exc:
        raise ConfigError(setting_from_text(str(exc)), first_line(str(exc))) from None
    except (ValueError, InvalidOperation) as exc:  # e.g. a TOML syntax error
        if isinstance(exc, ConfigError):
            raise
        source = str(toml) if toml else "settings"
        raise ConfigError(source, first_line(str(exc))) from None
    finally:
        _toml_path.reset(toml_token)
        _env_file.reset(env_token)
