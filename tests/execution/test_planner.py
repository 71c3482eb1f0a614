"""Signal → target → amount (DESIGN §4b) for flat, long and short positions."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.domain import (
    EXTERNAL_REFERENCE_PREFIX,
    Decision,
    Duration,
    InstrumentRules,
    NoOrderCode,
    OrderIntent,
    Side,
    Signal,
    WatchItem,
)
from bot.execution.planner import NoOrder, external_reference, market_duration, plan_order, round_amount

ITEM = WatchItem("Stock", 211, "AAPL:xnas", Decimal(10))
RULES = InstrumentRules("Stock:211", amount_decimals=0, minimum_trade_size=Decimal(1))
BAR = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def plan(
    signal: Signal,
    current: int,
    *,
    allow_short: bool = False,
    rules: InstrumentRules = RULES,
    quantity: str = "10",
):
    decision = Decision(ITEM.id, signal, "test", BAR, 100.0)
    return plan_order(
        decision,
        ITEM,
        Decimal(current),
        rules,
        cycle_id=7,
        allow_short=allow_short,
        quantity=Decimal(quantity),
    )


@pytest.mark.parametrize(
    ("signal", "current", "allow_short", "expected"),
    [
        (Signal.BUY, 0, False, (Side.BUY, 10, True)),
        (Signal.BUY, 10, False, None),
        (Signal.BUY, -10, False, (Side.BUY, 20, True)),  # close the short and go long in one order
        (Signal.SELL, 10, False, (Side.SELL, 10, False)),  # long → flat
        (Signal.SELL, 10, True, (Side.SELL, 20, True)),  # long → short
        (Signal.SELL, 0, False, None),
        (Signal.SELL, 0, True, (Side.SELL, 10, True)),
        (Signal.SELL, -10, True, None),
        (Signal.HOLD, 0, True, None),
        (Signal.HOLD, 10, True, None),
        (Signal.BUY, 4, False, None),  # already long (any size): nothing
    ],
)
def test_targets(signal: Signal, current: int, allow_short: bool, expected) -> None:
    planned = plan(signal, current, allow_short=allow_short)
    if expected is None:
        assert isinstance(planned, NoOrder) and not planned.recorded
        return
    assert isinstance(planned, OrderIntent)
    assert (planned.side, planned.amount, planned.opening) == (expected[0], Decimal(expected[1]), expected[2])
    assert planned.signal_bar_time == BAR
    assert planned.duration is Duration.DAY


def test_short_disabled_instrument_never_opens_a_short() -> None:
    rules = InstrumentRules("Stock:211", short_trade_disabled=True)
    planned = plan(Signal.SELL, 10, allow_short=True, rules=rules)
    assert isinstance(planned, OrderIntent) and planned.amount == 10 and not planned.opening


def test_amount_rounding_to_nothing_is_recorded_not_sent() -> None:
    rules = InstrumentRules("FxCrypto:21700189", amount_decimals=2, minimum_trade_size=Decimal("0.01"))
    planned = plan(Signal.BUY, 0, rules=rules, quantity="0.004")
    assert isinstance(planned, NoOrder) and planned.recorded and "minimum trade size" in planned.reason


def test_below_minimum_trade_size() -> None:
    rules = InstrumentRules("FxSpot:21", minimum_trade_size=Decimal(1000))
    assert isinstance(plan(Signal.BUY, 0, rules=rules, quantity="500"), NoOrder)


@pytest.mark.parametrize(
    ("amount", "decimals", "lot", "expected"),
    [
        ("10.7", 0, None, "10"),
        ("0.0149", 2, None, "0.01"),
        ("250", 0, "100", "200"),
        ("1234.5", 1, "0.5", "1234.5"),
    ],
)
def test_round_amount(amount: str, decimals: int, lot: str | None, expected: str) -> None:
    rules = InstrumentRules("x", amount_decimals=decimals, lot_size=Decimal(lot) if lot else None)
    assert round_amount(Decimal(amount), rules) == Decimal(expected)


@pytest.mark.parametrize(
    ("allowed", "expected"),
    [
        ((Duration.DAY, Duration.GOOD_TILL_CANCEL), Duration.DAY),
        ((Duration.GOOD_TILL_CANCEL, Duration.IMMEDIATE_OR_CANCEL), Duration.IMMEDIATE_OR_CANCEL),
        ((Duration.FILL_OR_KILL,), Duration.FILL_OR_KILL),
    ],
)
def test_market_duration(allowed, expected) -> None:
    assert market_duration(InstrumentRules("x", market_durations=allowed)) is expected


def test_external_reference_fits_50_chars_and_names_cycle_and_instrument() -> None:
    ref = external_reference(1234567, WatchItem("ContractFutures", 987654321, "X"), Side.SELL, token="0123456789")
    assert len(ref) <= 50
    assert ref == "sb-1234567-ContractFutures-987654321-S-0123456789"


def test_external_reference_shortens_the_asset_type_never_the_token() -> None:
    item = WatchItem("CfdOnFuturesWithAVeryLongAssetTypeName", 1234567890, "X")
    ref = external_reference(12345678901, item, Side.BUY, token="abcdefabcd")
    assert len(ref) == 50
    assert ref.startswith("sb-12345678901-CfdOn") and ref.endswith("-1234567890-B-abcdefabcd")


def test_external_references_are_unique_when_cycle_numbers_restart() -> None:
    """A new or lost metrics DB starts again at cycle 1: the reference must still be new for the account."""
    item = WatchItem("FxSpot", 21, "EURUSD")
    references = {external_reference(1, item, Side.BUY) for _ in range(1000)}
    assert len(references) == 1000
    assert all(r.startswith("sb-1-FxSpot-21-B-") and len(r) == len("sb-1-FxSpot-21-B-") + 10 for r in references)
    first, second = plan(Signal.BUY, 0), plan(Signal.BUY, 0)
    assert isinstance(first, OrderIntent) and isinstance(second, OrderIntent)
    assert first.external_reference != second.external_reference


def test_each_intent_gets_a_fresh_request_id() -> None:
    first, second = plan(Signal.BUY, 0), plan(Signal.BUY, 0)
    assert isinstance(first, OrderIntent) and isinstance(second, OrderIntent)
    assert first.request_id != second.request_id


def test_an_order_recorded_but_not_sent_carries_its_code() -> None:
    """The `orders` row's error_code comes from the planner, not from guessing at the reason's words."""
    small = plan(Signal.BUY, 0, rules=InstrumentRules("FxSpot:21", minimum_trade_size=Decimal(1000)), quantity="500")
    closed = plan(Signal.BUY, 0, rules=InstrumentRules("Stock:211", tradable=False))
    nothing = plan(Signal.BUY, 10)
    assert isinstance(small, NoOrder) and small.code is NoOrderCode.AMOUNT_TOO_SMALL and small.recorded
    assert isinstance(closed, NoOrder) and closed.code is NoOrderCode.NOT_TRADABLE and closed.recorded
    assert isinstance(nothing, NoOrder) and nothing.code is None and not nothing.recorded


def test_every_external_reference_starts_with_the_bot_prefix() -> None:
    planned = plan(Signal.BUY, 0)
    assert isinstance(planned, OrderIntent)
    assert planned.external_reference.startswith(EXTERNAL_REFERENCE_PREFIX) and EXTERNAL_REFERENCE_PREFIX == "sb-"
