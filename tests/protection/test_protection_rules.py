"""Protective prices: percentages from the entry's side of the quote, whole ticks (TickSize and TickSizeScheme)
rounded away from the entry, the strategy's own levels winning, order types the instrument supports."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain import Decision, InstrumentRules, Protection, ProtectionSettings, Quote, Side, Signal
from bot.execution.protection import Unprotected, protection_for, to_tick
from bot.saxo.ref_data import rules_from_details
from tests.saxo.helpers import FX, recorded

D = Decimal
PIPS = InstrumentRules("FxSpot:21", tick_size=D("0.00005"))
LADDER = InstrumentRules(
    "Stock:7203",
    tick_size=D("0.01"),
    tick_scheme=((D(100), D("0.01")), (D(500), D("0.05"))),
    scheme_default_tick=D("0.1"),
)
QUOTE = Quote("FxSpot:21", bid=1.08227, ask=1.08237)
STOP_AND_TARGET = ProtectionSettings(stop_loss_pct=D(1), take_profit_pct=D(2))


@pytest.mark.parametrize(
    ("rules", "price", "down", "up"),
    [
        (PIPS, "1.08237", "1.08235", "1.08240"),
        (PIPS, "1.08235", "1.08235", "1.08235"),  # already on a tick
        (LADDER, "99.994", "99.99", "100.00"),  # first element: 0.01 up to HighPrice 100
        (LADDER, "250.03", "250.00", "250.05"),  # second element: 0.05 up to 500
        (LADDER, "600.04", "600.0", "600.1"),  # above the last HighPrice: DefaultTickSize
        (InstrumentRules("x"), "1.234567", "1.234567", "1.234567"),  # no tick size given: unchanged
    ],
)
def test_prices_round_to_whole_ticks(rules: InstrumentRules, price: str, down: str, up: str) -> None:
    assert to_tick(D(price), rules, up=False) == D(down)
    assert to_tick(D(price), rules, up=True) == D(up)


def test_a_long_has_its_stop_below_the_ask_and_its_target_above_rounded_away_from_it() -> None:
    found = protection_for(Side.BUY, QUOTE, STOP_AND_TARGET, PIPS)
    # 1.08237 * 0.99 = 1.0715463 -> down to 1.07150; 1.08237 * 1.02 = 1.1040174 -> up to 1.10405
    assert found == Protection(stop=D("1.07150"), take_profit=D("1.10405"), stop_order_type="StopIfTraded")
    assert found.legs == ("stop_loss", "take_profit")


def test_a_short_has_its_stop_above_the_bid_and_its_target_below() -> None:
    found = protection_for(Side.SELL, QUOTE, STOP_AND_TARGET, PIPS)
    # 1.08227 * 1.01 = 1.0930927 -> up to 1.09310; 1.08227 * 0.98 = 1.0606246 -> down to 1.06060
    assert found == Protection(stop=D("1.09310"), take_profit=D("1.06060"))


def test_the_strategys_own_levels_win_over_the_percentages() -> None:
    decision = Decision("FxSpot:21", Signal.BUY, "x", stop_price=1.07001, take_profit_price=1.09)
    found = protection_for(Side.BUY, QUOTE, STOP_AND_TARGET, PIPS, decision)
    assert isinstance(found, Protection)
    assert (found.stop, found.take_profit) == (D("1.07000"), D("1.09000"))


def test_a_strategy_stop_on_the_wrong_side_is_refused() -> None:
    decision = Decision("FxSpot:21", Signal.BUY, "x", stop_price=1.2)
    found = protection_for(Side.BUY, QUOTE, ProtectionSettings(), PIPS, decision)
    assert isinstance(found, Unprotected) and "not below" in found.reason


def test_nothing_configured_means_no_protection() -> None:
    assert protection_for(Side.BUY, QUOTE, ProtectionSettings(), PIPS) is None


def test_a_trailing_stop_trails_whole_ticks_with_a_one_tick_step() -> None:
    found = protection_for(Side.BUY, QUOTE, ProtectionSettings(trailing_stop_pct=D("0.5")), PIPS)
    # 0.5 % of 1.08237 = 0.005411... -> 0.00540 (108 ticks); first price 1.08237 - 0.0054 = 1.07697 -> 1.07695
    assert found == Protection(
        stop=D("1.07695"),
        trailing=D("0.00540"),
        trailing_step=D("0.00005"),
        stop_order_type="TrailingStopIfTraded",
    )
    assert found.legs == ("trailing_stop",)


def test_the_stop_type_falls_back_to_what_the_instrument_supports() -> None:
    fx_sample = InstrumentRules("FxSpot:22", tick_size=D("0.00005"), order_types=("Market", "Limit", "Stop"))
    found = protection_for(Side.BUY, QUOTE, STOP_AND_TARGET, fx_sample)
    assert isinstance(found, Protection) and found.stop_order_type == "Stop"
    market_only = InstrumentRules("x", tick_size=D("0.00005"), order_types=("Market",))
    refused = protection_for(Side.BUY, QUOTE, STOP_AND_TARGET, market_only)
    assert isinstance(refused, Unprotected) and "StopIfTraded, Stop" in refused.reason
    no_limit = InstrumentRules("x", tick_size=D("0.00005"), order_types=("Market", "StopIfTraded"))
    refused = protection_for(Side.BUY, QUOTE, STOP_AND_TARGET, no_limit)
    assert isinstance(refused, Unprotected) and "Limit" in refused.reason


def test_no_quote_means_no_protected_entry() -> None:
    found = protection_for(Side.BUY, None, STOP_AND_TARGET, PIPS)
    assert isinstance(found, Unprotected) and "quote" in found.reason


def test_instrument_details_give_tick_size_scheme_and_supported_order_types() -> None:
    sample = recorded("ref_v1_instruments_details_uic_assettype")
    rules = rules_from_details(FX, sample)
    assert rules.tick_size == D("0.00005")
    assert rules.order_types == ("Market", "Limit", "Stop", "TrailingStop", "StopLimit")
    ladder = {
        **sample,
        "TickSize": 1,
        "TickSizeScheme": {
            "DefaultTickSize": 10,
            "Elements": [{"HighPrice": 3000, "TickSize": 1}, {"HighPrice": 1000, "TickSize": 0.5}],
        },
    }
    rules = rules_from_details(FX, ladder)
    assert rules.tick_scheme == ((D(1000), D("0.5")), (D(3000), D(1)))  # sorted by HighPrice
    assert [rules.tick_at(D(p)) for p in ("999", "1500", "3001")] == [D("0.5"), D(1), D(10)]


def test_an_opening_order_is_not_sent_unprotected_and_a_reversal_goes_without_legs() -> None:
    from dataclasses import replace

    from bot.config import load_settings
    from bot.domain import NoOrderCode
    from bot.execution.planner import NoOrder
    from bot.execution.protection import protect
    from tests.saxo.helpers import intent

    settings = load_settings(env_file=None, overrides={"stop_loss_pct": "1"})
    opening = intent(amount="10000")
    market_only = InstrumentRules("FxSpot:21", tick_size=D("0.00005"), order_types=("Market",))
    refused = protect(settings, opening, QUOTE, market_only, None, flat=True)
    assert isinstance(refused, NoOrder) and refused.code is NoOrderCode.UNPROTECTED
    protected = protect(settings, opening, QUOTE, PIPS, None, flat=True)
    assert not isinstance(protected, NoOrder) and protected.protection == Protection(stop=D("1.07150"))
    reversal = protect(settings, opening, QUOTE, PIPS, None, flat=False)
    assert reversal == opening  # no legs: they would be for twice the new position
    closing = replace(opening, opening=False)
    assert protect(settings, closing, QUOTE, PIPS, None, flat=False) == closing
