"""Protection settings: defaults off, per watchlist entry overrides, bad values name the setting (exit code 2)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bot.config import load_settings
from bot.domain import ProtectionSettings
from bot.errors import ConfigError

D = Decimal
ENTRIES = [
    {"asset_type": "FxSpot", "uic": 21, "symbol": "EURUSD", "stop_loss_pct": 0, "trailing_stop_pct": "0.5"},
    {"asset_type": "Stock", "uic": 211, "symbol": "AAPL:xnas", "take_profit_pct": 5},
]


def settings(**overrides: object):
    return load_settings(env_file=None, overrides=overrides)


def test_everything_is_off_by_default_with_market_orders() -> None:
    s = settings()
    assert s.protection_for("FxSpot:21") == ProtectionSettings()
    assert (s.order_type, s.risk_per_trade_pct, s.limit_ttl_cycles) == ("Market", D(0), 3)


def test_a_watchlist_entry_overrides_the_global_levels() -> None:
    s = settings(stop_loss_pct="1", take_profit_pct="2", watchlist=json.dumps(ENTRIES))
    assert s.protection_for("FxSpot:21") == ProtectionSettings(D(0), D(2), D("0.5"))
    assert s.protection_for("Stock:211") == ProtectionSettings(D(1), D(5), D(0))
    assert s.protection_for("Stock:999") == ProtectionSettings(D(1), D(2), D(0))


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"stop_loss_pct": "-1"}, "STOP_LOSS_PCT"),
        ({"stop_loss_pct": "100"}, "STOP_LOSS_PCT"),
        ({"take_profit_pct": "abc"}, "TAKE_PROFIT_PCT"),
        ({"trailing_stop_pct": "nan"}, "TRAILING_STOP_PCT"),
        ({"stop_loss_pct": "1", "trailing_stop_pct": "1"}, "TRAILING_STOP_PCT"),
        ({"order_type": "Stop"}, "ORDER_TYPE"),
        ({"limit_ttl_cycles": "0"}, "LIMIT_TTL_CYCLES"),
        ({"risk_per_trade_pct": "101"}, "RISK_PER_TRADE_PCT"),
        ({"limit_offset_pct": "-0.1"}, "LIMIT_OFFSET_PCT"),
        ({"watchlist": json.dumps([{**ENTRIES[1], "stop_loss_pct": -2}])}, "WATCHLIST"),
    ],
)
def test_bad_values_name_the_setting(overrides: dict[str, object], setting: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(**overrides)
    assert caught.value.setting == setting


def test_order_type_is_case_insensitive() -> None:
    assert settings(order_type="limit").order_type == "Limit"
