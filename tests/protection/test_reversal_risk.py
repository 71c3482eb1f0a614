"""The risk limits over a reversal split in two: the close is approved first and counted; the opening part is
checked as a flip's opening part (the position count does not change), and when blocked it is just not sent (its
close is already approved: no second close is made up)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from bot.domain import Position, Side
from bot.risk import RiskLimits, check_orders
from tests.risk.test_limits import AAPL, MSFT, UNIT, intent, portfolio

LONG = {"Stock:211": Position("Stock:211", Decimal(10), Decimal(2000))}
CLOSE = replace(intent(AAPL, Side.SELL, 10, opening=False), reduces=True)
OPEN = replace(intent(AAPL, Side.SELL, 10), external_reference="ref-open", follows_close=True)


def limits(*, positions: int = 20, orders: int = 10, exposure: int = 100, loss: int = 0) -> RiskLimits:
    return RiskLimits(positions, orders, Decimal(exposure), Decimal(loss))


def test_both_parts_count_against_the_order_limit_close_first() -> None:
    verdict = check_orders([OPEN, CLOSE], portfolio(LONG), limits(orders=2), UNIT)
    assert verdict.approved == (CLOSE, OPEN) and verdict.blocked == ()
    one = check_orders([OPEN, CLOSE], portfolio(LONG), limits(orders=1), UNIT)
    assert one.approved == (CLOSE,)  # only the close: not a second, made-up close
    assert one.blocked[0].intent is OPEN and one.blocked[0].rule == "MAX_ORDERS_PER_CYCLE"


def test_the_opening_part_replaces_a_position_so_the_position_count_does_not_block_it() -> None:
    verdict = check_orders([CLOSE, OPEN], portfolio(LONG), limits(positions=1), UNIT)
    assert verdict.approved == (CLOSE, OPEN)
    # ...and a new instrument after it still sees one position open, as before the reversal
    other = intent(MSFT, Side.BUY, 1)
    after = check_orders([CLOSE, OPEN, other], portfolio(LONG), limits(positions=1), UNIT)
    assert after.blocked[0].intent is other and after.blocked[0].rule == "MAX_OPEN_POSITIONS"


def test_the_opening_part_adds_its_whole_amount_to_the_exposure() -> None:
    # 2,000 of stock held (its exposure stays counted, as for a one-order flip); the short adds 10 x 200 = 2,000
    assert check_orders([CLOSE, OPEN], portfolio(LONG), limits(exposure=4), UNIT).approved == (CLOSE, OPEN)
    verdict = check_orders([CLOSE, OPEN], portfolio(LONG), limits(exposure=3), UNIT)
    assert verdict.approved == (CLOSE,) and verdict.blocked[0].rule == "MAX_EXPOSURE_PCT_PER_ASSET_TYPE"


def test_the_daily_loss_halt_lets_the_close_through_only() -> None:
    book = portfolio(LONG, total=99_000, start=100_000)
    verdict = check_orders([CLOSE, OPEN], book, limits(loss=500), UNIT)
    assert verdict.approved == (CLOSE,) and verdict.blocked[0].intent is OPEN
