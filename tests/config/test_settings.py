"""Settings: every bad input becomes a ConfigError naming the setting; good input is parsed and frozen."""

from __future__ import annotations

import json
from datetime import time
from decimal import Decimal

import pytest

from bot.config import SIM_BASE_URL, load_settings
from bot.errors import ConfigError

ENV_NAMES = [
    "SAXO_ENV",
    "SAXO_BASE_URL",
    "SAXO_ACCESS_TOKEN",
    "SAXO_APP_KEY",
    "SAXO_APP_SECRET",
    "SAXO_AUTH_MODE",
    "WATCHLIST",
    "TRADING_HOURS_MODE",
    "TRADING_START",
    "TRADING_END",
    "TIMEZONE",
    "TRADING_CALENDAR",
    "TRADING_DAYS",
    "DRY_RUN",
    "CYCLE_INTERVAL_SECONDS",
    "ALLOW_LIVE_TRADING",
    "STRATEGY",
    "STRATEGY_PARAMS",
    "DEFAULT_QUANTITY",
    "LOG_LEVEL",
    "DATABASE_URL",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env / config.toml


def load(**env: str):
    return load_settings(env_file=None, overrides=None) if not env else _with_env(env)


def _with_env(env: dict[str, str]):
    mp = pytest.MonkeyPatch()
    try:
        for key, value in env.items():
            mp.setenv(key, value)
        return load_settings(env_file=None)
    finally:
        mp.undo()


def test_defaults_run_locally_with_a_mixed_watchlist() -> None:
    settings = load()
    assert settings.saxo_env == "local"
    assert settings.trading_hours_mode == "always"
    assert settings.trading_start == time(9, 30) and settings.trading_end == time(16, 0)
    asset_types = {item.asset_type for item in settings.items}
    assert {"FxSpot", "FxCrypto", "Stock"} <= asset_types
    assert settings.dry_run is False and settings.cycle_interval_seconds == 60


def test_a_token_means_sim_with_the_sim_gateway() -> None:
    settings = load(SAXO_ACCESS_TOKEN="abc.def.ghi")
    assert settings.saxo_env == "sim"
    assert settings.saxo_base_url == SIM_BASE_URL
    assert "abc.def.ghi" not in repr(settings) and "abc.def.ghi" not in str(settings.model_dump())


def test_settings_are_frozen() -> None:
    settings = load()
    with pytest.raises(Exception):  # noqa: B017 - pydantic raises ValidationError for frozen models
        settings.dry_run = True  # type: ignore[misc]


def test_watchlist_json_and_quantity_fallback() -> None:
    watchlist = [
        {"asset_type": "Stock", "uic": 211, "symbol": "AAPL:xnas"},
        {"asset_type": "FxCrypto", "uic": 21700189, "symbol": "BTCUSD", "quantity": 0.05},
    ]
    settings = load(WATCHLIST=json.dumps(watchlist), DEFAULT_QUANTITY="3")
    items = settings.items
    assert [i.id for i in items] == ["Stock:211", "FxCrypto:21700189"]
    assert items[0].quantity == Decimal(3) and items[1].quantity == Decimal("0.05")


@pytest.mark.parametrize(
    ("env", "setting", "fragment"),
    [
        ({"TRADING_HOURS_MODE": "sometimes"}, "TRADING_HOURS_MODE", "always"),
        ({"TRADING_START": "9.30"}, "TRADING_START", "HH:MM"),
        ({"TRADING_END": "25:00"}, "TRADING_END", "HH:MM"),
        ({"WATCHLIST": "[{bad json"}, "WATCHLIST", "not valid JSON"),
        ({"WATCHLIST": "[]"}, "WATCHLIST", "non-empty"),
        (
            {"WATCHLIST": '[{"asset_type":"Spaceship","uic":1,"symbol":"X"}]'},
            "WATCHLIST",
            "unknown asset type",
        ),
        ({"WATCHLIST": '[{"asset_type":"Stock","uic":0,"symbol":"X"}]'}, "WATCHLIST", "uic"),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE", "unknown timezone"),
        ({"CYCLE_INTERVAL_SECONDS": "0"}, "CYCLE_INTERVAL_SECONDS", "greater than or equal to 1"),
        ({"CYCLE_INTERVAL_SECONDS": "0.5"}, "CYCLE_INTERVAL_SECONDS", "greater than or equal to 1"),
        ({"CYCLE_INTERVAL_SECONDS": "-5"}, "CYCLE_INTERVAL_SECONDS", "greater than or equal to 1"),
        ({"SAXO_ENV": "production"}, "SAXO_ENV", "local"),
        ({"SAXO_ENV": "live", "SAXO_ACCESS_TOKEN": "t0k3n-value"}, "SAXO_ENV", "ALLOW_LIVE_TRADING"),
        ({"SAXO_ENV": "sim"}, "SAXO_ACCESS_TOKEN", "required"),
        ({"TRADING_CALENDAR": "XLON?"}, "TRADING_CALENDAR", "unknown trading calendar"),
        ({"TRADING_DAYS": "funday"}, "TRADING_DAYS", ""),
        ({"STRATEGY_PARAMS": "{nope"}, "STRATEGY_PARAMS", "not valid JSON"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL", "unknown log level"),
    ],
)
def test_bad_input_names_the_setting(env: dict[str, str], setting: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(**env)
    assert caught.value.setting == setting
    assert fragment in caught.value.problem
    assert "\n" not in str(caught.value)


def test_live_with_opt_in_is_accepted() -> None:
    settings = load(SAXO_ENV="live", SAXO_ACCESS_TOKEN="t0k3n-value", ALLOW_LIVE_TRADING="true")
    assert settings.is_live and settings.saxo_base_url == "https://gateway.saxobank.com/openapi"


def test_sources_order_cli_over_env_over_dotenv_over_toml(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.toml").write_text(
        'cycle_interval_seconds = 30\nstrategy = "ma_crossover"\ntrading_hours_mode = "fixed"\n'
    )
    (tmp_path / ".env").write_text("CYCLE_INTERVAL_SECONDS=20\n")
    assert load_settings().cycle_interval_seconds == 20  # .env beats TOML
    assert load_settings().trading_hours_mode == "fixed"  # TOML beats defaults
    monkeypatch.setenv("CYCLE_INTERVAL_SECONDS", "10")
    assert load_settings().cycle_interval_seconds == 10  # env beats .env
    assert load_settings(overrides={"cycle_interval_seconds": 5}).cycle_interval_seconds == 5  # CLI beats env


def test_explicit_config_file_must_exist() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings("nowhere.toml", env_file=None)
    assert caught.value.setting == "--config"


def test_toml_watchlist_table(tmp_path) -> None:
    path = tmp_path / "bot.toml"
    path.write_text('[[watchlist]]\nasset_type = "FxSpot"\nuic = 21\nsymbol = "EURUSD"\nquantity = 5000\n')
    settings = load_settings(path, env_file=None)
    assert [(i.id, i.quantity) for i in settings.items] == [("FxSpot:21", Decimal(5000))]


def test_names_are_case_insensitive(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("dry_run", "true")
    assert load_settings(env_file=None).dry_run is True
