"""Notification messages are pure: each event's text, NOTIFY_EVENTS parsing, the error-streak and halt rules."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from bot.cycle.result import CycleResult
from bot.domain import CycleStatus, Decision, Duration, OrderIntent, OrderStatus, Side, Signal, WatchItem
from bot.execution.executor import ExecutionReport, OrderResult
from bot.notify import events
from bot.notify.events import CycleWatcher, Event, Level, parse_events

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
EURUSD = WatchItem("FxSpot", 21, "EURUSD", Decimal(10000))
ENV = "Saxo SIM"


def order(status: OrderStatus, side: Side = Side.BUY, **fields) -> OrderResult:
    intent = OrderIntent(EURUSD, side, Decimal(10000), Duration.DAY, "sb-1-FxSpot:21", "req-1", opening=True)
    return OrderResult(intent=intent, row_id=1, status=status, **fields)


def cycle(status: CycleStatus, *orders: OrderResult, reason: str | None = None, error: str | None = None):
    decision = Decision("FxSpot:21", Signal.BUY, "cross", price=1.08612)
    return CycleResult(
        cycle_id=7,
        status=status,
        started_at=NOW,
        skip_reason=reason,
        error=error,
        decisions={"FxSpot:21": decision},
        execution=ExecutionReport(results=list(orders)),
    )


def test_order_placed_names_side_amount_instrument_order_and_price() -> None:
    message = events.order_placed(order(OrderStatus.PLACED, order_id="5001"), ENV, signal_price=1.08612)
    assert message.event is Event.ORDER_PLACED and message.level is Level.SUCCESS
    assert message.title == "saxo-bot (Saxo SIM): order placed"
    assert message.body == (
        "BUY 10000 EURUSD (FxSpot:21) placed: order 5001, fill price not known yet (signal price 1.08612)."
    )
    filled = events.order_placed(order(OrderStatus.PLACED, order_id="5001"), ENV, fill_price=Decimal("1.0862"))
    assert "filled at 1.0862" in filled.body


def test_rejected_and_failed_orders_say_why() -> None:
    rejected = events.order_not_placed(
        order(OrderStatus.REJECTED, side=Side.SELL, error_code="InsufficientFunds", error_message="Not enough cash"),
        ENV,
    )
    assert rejected.event is Event.ORDER_REJECTED
    assert rejected.body == "SELL 10000 EURUSD (FxSpot:21) rejected: InsufficientFunds: Not enough cash."
    failed = events.order_not_placed(order(OrderStatus.FAILED, error_message="Stale"), ENV)
    assert failed.event is Event.ORDER_FAILED and failed.body.endswith("failed: Stale.")


@pytest.mark.parametrize(
    ("message", "event", "words"),
    [
        (events.halted("kill switch: data/STOP exists", ENV), Event.HALTED, "kill switch: data/STOP exists"),
        (events.error_streak(3, "quotes unreachable", ENV), Event.ERROR_STREAK, "3 cycles in a row ended in error"),
        (events.auth_lost("401 Unauthorized", ENV), Event.AUTH_LOST, "python main.py login"),
        (events.health_stale(NOW, 120, ENV), Event.HEALTH_STALE, "2026-11-24T15:00:00+00:00 (more than 120 s"),
        (events.started(ENV, True, "ma_crossover", 5), Event.START, "dry run (precheck only), strategy ma_crossover"),
        (events.stopped(3, ENV), Event.STOP, "exit code 3"),
        (events.protection_filled("FxSpot:21", "stop-loss", 1.07, ENV), Event.PROTECTION_FILLED, "stop-loss filled"),
    ],
)
def test_every_event_has_its_message(message, event, words) -> None:
    assert message.event is event
    assert words in message.body
    assert message.title.startswith("saxo-bot (Saxo SIM): ")


def test_notify_events_parsing() -> None:
    assert parse_events("") == frozenset(Event)
    assert parse_events("all") == frozenset(Event)
    assert parse_events(" Order_Placed , halted ") == {Event.ORDER_PLACED, Event.HALTED}
    with pytest.raises(ValueError, match="unknown event 'orders'"):
        parse_events("orders")


def test_a_cycle_yields_one_message_per_placed_rejected_or_failed_order() -> None:
    result = cycle(
        CycleStatus.OK,
        order(OrderStatus.PLACED, order_id="1"),
        order(OrderStatus.REJECTED, error_code="X"),
        order(OrderStatus.FAILED),
        order(OrderStatus.PRECHECKED),  # dry run: nothing to say
        order(OrderStatus.BLOCKED),
    )
    kinds = [m.event for m in CycleWatcher(3).observe(result, ENV)]
    assert kinds == [Event.ORDER_PLACED, Event.ORDER_REJECTED, Event.ORDER_FAILED]


def test_error_streak_fires_once_when_it_reaches_the_count_and_again_after_a_success() -> None:
    watcher = CycleWatcher(3)
    said = [watcher.observe(cycle(CycleStatus.ERROR, error=f"boom {i}"), ENV) for i in range(5)]
    assert [len(m) for m in said] == [0, 0, 1, 0, 0]
    assert said[2][0].event is Event.ERROR_STREAK and "Last error: boom 2" in said[2][0].body
    watcher.observe(cycle(CycleStatus.SKIPPED), ENV)  # any cycle not in error ends the streak
    again = [watcher.observe(cycle(CycleStatus.ERROR), ENV) for _ in range(3)]
    assert [len(m) for m in again] == [0, 0, 1]


def test_halt_is_reported_when_it_begins_or_its_cause_changes_not_every_cycle() -> None:
    watcher = CycleWatcher(3)
    kill = "kill switch: data/STOP exists; nothing is prechecked or placed"
    loss = "DailyLossLimit: down {} USD since the day started"
    assert [m.event for m in watcher.observe(cycle(CycleStatus.HALTED, reason=kill), ENV)] == [Event.HALTED]
    assert watcher.observe(cycle(CycleStatus.HALTED, reason=kill), ENV) == []
    assert watcher.observe(cycle(CycleStatus.SKIPPED, reason="market closed"), ENV) == []
    assert watcher.observe(cycle(CycleStatus.HALTED, reason=kill), ENV) == []  # a skip does not end the halt
    first = watcher.observe(cycle(CycleStatus.HALTED, reason=loss.format("1000.00")), ENV)
    assert [m.event for m in first] == [Event.HALTED]  # a new cause
    assert watcher.observe(cycle(CycleStatus.HALTED, reason=loss.format("1200.00")), ENV) == []  # same cause
    watcher.observe(cycle(CycleStatus.OK), ENV)
    assert len(watcher.observe(cycle(CycleStatus.HALTED, reason=kill), ENV)) == 1
