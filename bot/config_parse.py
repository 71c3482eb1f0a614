"""How settings are read and what a bad one sounds like (DESIGN §3): the helpers behind `bot/config.py`.

`bot/config.py` keeps the `Settings` model itself (the fields, their defaults, the cross-field rules) and
`load_settings`; this module holds the watchlist entry model, the parsers and single-value checks its
validators delegate to, and the translation of pydantic's errors into one `ConfigError` naming the setting.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.domain import ASSET_TYPES
from bot.errors import ConfigError

DEFAULT_WATCHLIST: list[dict[str, Any]] = [
    {"asset_type": "FxSpot", "uic": 21, "symbol": "EURUSD", "quantity": 10000},
    {"asset_type": "FxSpot", "uic": 31, "symbol": "GBPUSD", "quantity": 10000},
    {"asset_type": "FxSpot", "uic": 42, "symbol": "USDJPY", "quantity": 10000},
    {"asset_type": "FxCrypto", "uic": 21700189, "symbol": "BTCUSD", "quantity": "0.01"},
    {"asset_type": "Stock", "uic": 211, "symbol": "AAPL:xnas", "quantity": 1},
    {"asset_type": "Stock", "uic": 261, "symbol": "MSFT:xnas", "quantity": 1},
]
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")


class WatchEntry(BaseModel):
    """One watchlist entry as the user writes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    asset_type: str
    uic: int = Field(gt=0)
    symbol: str = Field(min_length=1)
    quantity: Decimal | None = Field(default=None, gt=0)
    stop_loss_pct: Decimal | None = Field(default=None, ge=0, lt=100, allow_inf_nan=False)
    take_profit_pct: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False)
    trailing_stop_pct: Decimal | None = Field(default=None, ge=0, lt=100, allow_inf_nan=False)

    @field_validator("asset_type")
    @classmethod
    def _known_asset_type(cls, value: str) -> str:
        if value not in ASSET_TYPES:
            raise ValueError(f"unknown asset type {value!r}; known: {', '.join(sorted(ASSET_TYPES))}")
        return value


# ---- parsers and single-value checks (each raises ValueError, which pydantic files under the setting) ----


def parse_watchlist(value: Any) -> Any:
    """WATCHLIST as written: a JSON text or a list, never empty."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(value, list | tuple) or not value:
        raise ValueError('expected a non-empty JSON list of {"asset_type","uic","symbol"} objects')
    return value


def unique_instruments(value: tuple[WatchEntry, ...]) -> tuple[WatchEntry, ...]:
    """An instrument listed twice would trade twice: refused."""
    seen: set[tuple[str, int]] = set()
    for entry in value:
        key = (entry.asset_type, entry.uic)
        if key in seen:
            raise ValueError(f"{entry.asset_type}:{entry.uic} is listed twice")
        seen.add(key)
    return value


def parse_params(value: Any) -> Any:
    """STRATEGY_PARAMS: a JSON object (blank text means none)."""
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg} at char {exc.pos})") from None
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


def known_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file path
        raise ValueError(f"unknown timezone {value!r} (use an IANA name such as America/New_York)") from None
    return value


def known_level(value: str) -> str:
    if value.upper() not in LOG_LEVELS:
        raise ValueError(f"unknown log level {value!r}; use one of {', '.join(LOG_LEVELS)}")
    return value.upper()


# ---- errors: pydantic's report -> one ConfigError naming the setting ----------------------------------


def as_config_error(exc: ValidationError) -> ConfigError:
    error = exc.errors()[0]
    location = [str(part) for part in error.get("loc", ())]
    setting = location[0].upper() if location else "SETTINGS"
    context = error.get("ctx") or {}
    inner = context.get("error")
    if isinstance(inner, ConfigError):
        return inner
    message = str(inner) if inner is not None else error.get("msg", "invalid value")
    message = message.removeprefix("Value error, ")
    if len(location) > 1:
        message = f"entry {location[1]}" + (f", field {location[2]}" if len(location) > 2 else "") + f": {message}"
    bad_input = error.get("input")
    scalar = bad_input is not None and not isinstance(bad_input, dict | list | tuple) and len(location) <= 1
    # A database URL may carry a password: its messages say what is wrong without repeating it.
    if scalar and "URL" not in setting and str(bad_input) not in message:
        shown = "***" if "TOKEN" in setting or "SECRET" in setting else repr(bad_input)[:60]
        message = f"{message} (got {shown})"
    return ConfigError(setting, message)


def setting_from_text(text: str) -> str:
    marker = 'field "'
    if marker in text:
        return text.split(marker, 1)[1].split('"', 1)[0].upper()
    return "SETTINGS"


def first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "invalid settings"
