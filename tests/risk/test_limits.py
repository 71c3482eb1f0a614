"""Risk limits on hand-made portfolios: each rule alone, then together."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.domain import Balance, Duration, OrderIntent, Position, RiskRule, Side, WatchItem
from bot.risk import Portfolio, RiskLimits, check_orders, daily_loss_breach, unit_value
from bot.risk.exposure import worth_its_price

EURUSD = WatchItem("FxSpot", 21, "EURUSD", Decimal(10000))
GBPUSD = WatchItem("FxSpot", 31, "GBPUSD", Decimal(10000))
AAPL = WatchItem("Stock", 211, "AAPL:xnas", Decimal(10))
MSFT = WatchItem("Stock", 261, "MSFT:xnas", Decimal(10))
LOOSE = RiskLimits(
    max_open_positions=20, max_orders_per_cycle=10, max_exposure_pct=Decimal(50), daily_loss_limit=Decimal(0)
)


def intent(item: WatchItem, side: Side, amount: int, *, opening: bool = True) -> OrderIntent:
    return OrderIntent(item, side, Decimal(amount), Duration.DAY, f"ref-{item.uic}", "rid", opening)


def portfolio(positions: dict[str, Position] | None = None, total: int = 100_000, start: int | None = None):
    balance = Balance(Decimal(total), Decimal(total), "USD")
    return Portfolio(positions or {}, balance, Decimal(start) if start is not None else None)


def values(**per_id: float) -> dict[str, Decimal]:
    return {k.replace("_", ":"): Decimal(str(v)) for k, v in per_id.items()}


UNIT = {
    "FxSpot:21": Decimal("1.1"),
    "FxSpot:31": Decimal("1.3"),
    "Stock:211": Decimal(200),
    "Stock:261": Decimal(400),
}


def test_everything_within_limits_is_approved() -> None:
    verdict = check_orders([intent(AAPL, Side.BUY, 10)], portfolio(), LOOSE, UNIT)
    assert [i.instrument_id for i in verdict.approved] == ["Stock:211"]
    assert verdict.blocked == () and verdict.halted is None


def test_max_open_positions_blocks_new_positions_only() -> None:
    held = {"Stock:211": Position("Stock:211", Decimal(10), Decimal(2000))}
    limits = RiskLimits(1, 10, Decimal(100), Decimal(0))
    verdict = check_orders([intent(MSFT, Side.BUY, 1)], portfolio(held), limits, UNIT)
    assert verdict.approved == ()
    assert verdict.blocked[0].rule == "MAX_OPEN_POSITIONS"
    closing = intent(AAPL, Side.SELL, 10, opening=False)
    assert check_orders([closing], portfolio(held), limits, UNIT).approved == (closing,)


def test_max_orders_per_cycle_puts_closing_orders_first() -> None:
    held = {"Stock:211": Position("Stock:211", Decimal(10), Decimal(2000))}
    limits = RiskLimits(20, 1, Decimal(100), Decimal(0))
    opening = intent(MSFT, Side.BUY, 1)
    closing = intent(AAPL, Side.SELL, 10, opening=False)
    verdict = check_orders([opening, closing], portfolio(held), limits, UNIT)
    assert verdict.approved == (closing,)
    assert verdict.blocked[0].intent is opening and verdict.blocked[0].rule == "MAX_ORDERS_PER_CYCLE"


def test_closing_orders_are_never_blocked_even_past_the_order_limit() -> None:
    held = {f"Stock:{u}": Position(f"Stock:{u}", Decimal(1), Decimal(1)) for u in (211, 261)}
    limits = RiskLimits(20, 1, Decimal(100), Decimal(0))
    closings = [intent(AAPL, Side.SELL, 1, opening=False), intent(MSFT, Side.SELL, 1, opening=False)]
    assert len(check_orders(closings, portfolio(held), limits, UNIT).approved) == 2


def test_exposure_per_asset_type() -> None:
    held = {"Stock:211": Position("Stock:211", Decimal(200), Decimal(40_000))}
    # 40% already in stocks; 10 MSFT at 400 = 4,000 → 44% ok; 30 → 52% blocked
    assert check_orders([intent(MSFT, Side.BUY, 10)], portfolio(held), LOOSE, UNIT).approved
    verdict = check_orders([intent(MSFT, Side.BUY, 30)], portfolio(held), LOOSE, UNIT)
    assert verdict.blocked[0].rule == "MAX_EXPOSURE_PCT_PER_ASSET_TYPE"
    assert "52.0%" in verdict.blocked[0].reason
    # FX exposure is another bucket: not affected by the stock exposure
    assert check_orders([intent(EURUSD, Side.BUY, 10000)], portfolio(held), LOOSE, UNIT).approved


def test_exposure_accumulates_within_a_cycle() -> None:
    verdict = check_orders(
        [intent(AAPL, Side.BUY, 150), intent(MSFT, Side.BUY, 60)], portfolio(), LOOSE, UNIT
    )  # 30,000 (30%) then +24,000 → 54%
    assert [i.instrument_id for i in verdict.approved] == ["Stock:211"]
    assert verdict.blocked[0].intent.instrument_id == "Stock:261"


def test_daily_loss_limit_halts_opening_but_lets_closing_through() -> None:
    held = {"Stock:211": Position("Stock:211", Decimal(10), Decimal(2000))}
    limits = RiskLimits(20, 10, Decimal(100), Decimal(500))
    book = portfolio(held, total=99_400, start=100_000)
    closing = intent(AAPL, Side.SELL, 10, opening=False)
    verdict = check_orders([intent(MSFT, Side.BUY, 1), closing], book, limits, UNIT)
    assert verdict.halted and "DAILY_LOSS_LIMIT" in verdict.halted
    assert verdict.approved == (closing,)
    assert verdict.blocked[0].rule == "DAILY_LOSS_LIMIT"


@pytest.mark.parametrize(
    ("total", "start", "limit", "breached"),
    [
        (99_500, 100_000, 500, True),
        (99_501, 100_000, 500, False),
        (90_000, 100_000, 0, False),
        (90_000, None, 500, False),
    ],
)
def test_daily_loss_breach(total: int, start: int | None, limit: int, breached: bool) -> None:
    assert (daily_loss_breach(portfolio(total=total, start=start), Decimal(limit)) is not None) is breached


def test_blocked_flip_still_closes_the_old_position() -> None:
    short = {"Stock:211": Position("Stock:211", Decimal(-10), Decimal(2000))}
    limits = RiskLimits(20, 10, Decimal(100), Decimal(500))
    flip = intent(AAPL, Side.BUY, 20)  # close 10 short, open 10 long
    verdict = check_orders([flip], portfolio(short, total=90_000, start=100_000), limits, UNIT)
    assert verdict.blocked[0].intent is flip
    assert len(verdict.approved) == 1
    assert verdict.approved[0].amount == Decimal(10) and verdict.approved[0].opening is False


def test_crypto_position_counts_under_either_asset_type_name() -> None:
    btc = WatchItem("FxSpot", 21700189, "BTCUSD")
    held = {"FxCrypto:21700189": Position("FxCrypto:21700189", Decimal("0.01"), Decimal(900))}
    limits = RiskLimits(1, 10, Decimal(100), Decimal(0))
    # the watchlist says FxSpot, Saxo reports FxCrypto: it is the same position, so no new position opens
    verdict = check_orders([intent(btc, Side.BUY, 1)], portfolio(held), limits, {})
    assert verdict.approved


def test_unit_value_estimates() -> None:
    assert unit_value(EURUSD, 1.1, "USD") == Decimal("1.1")
    assert unit_value(WatchItem("FxSpot", 42, "USDJPY"), 150.0, "USD") == Decimal(1)
    assert unit_value(AAPL, 200.5, "USD") == Decimal("200.5")


@pytest.mark.parametrize("account", ["USD", "EUR", "JPY", ""])
@pytest.mark.parametrize("item", [EURUSD, WatchItem("FxSpot", 42, "USDJPY"), WatchItem("FxCrypto", 7, "BTCUSD"), AAPL])
def test_worth_its_price_is_the_rule_unit_value_applies(item: WatchItem, account: str) -> None:
    # the backtest asks worth_its_price once per instrument and values positions from it on every order
    expected = unit_value(item, 1.2345, account)
    assert (Decimal("1.2345") if worth_its_price(item, account) else Decimal(1)) == expected


@pytest.mark.parametrize(
    ("limits", "held", "total", "start", "rule"),
    [
        (RiskLimits(1, 10, Decimal(100), Decimal(0)), {"Stock:261": Decimal(10)}, 100_000, None, "open"),
        (RiskLimits(20, 0, Decimal(100), Decimal(0)), {}, 100_000, None, "orders"),
        (RiskLimits(20, 10, Decimal(1), Decimal(0)), {}, 100_000, None, "exposure"),
        (RiskLimits(20, 10, Decimal(100), Decimal(500)), {}, 99_000, 100_000, "loss"),
    ],
)
def test_a_blocked_order_carries_its_rule_as_a_name(limits, held, total, start, rule) -> None:
    """The rule is a RiskRule member (stored as the order's error_code), and the reason starts with its name."""
    expected = {
        "open": RiskRule.MAX_OPEN_POSITIONS,
        "orders": RiskRule.MAX_ORDERS_PER_CYCLE,
        "exposure": RiskRule.MAX_EXPOSURE_PCT_PER_ASSET_TYPE,
        "loss": RiskRule.DAILY_LOSS_LIMIT,
    }[rule]
    positions = {iid: Position(iid, amount, amount * 400) for iid, amount in held.items()}
    verdict = check_orders([intent(AAPL, Side.BUY, 10)], portfolio(positions, total, start), limits, UNIT)
    (blocked,) = verdict.blocked
    assert blocked.rule is expected
    assert blocked.reason.startswith(f"{expected.value}: ")
