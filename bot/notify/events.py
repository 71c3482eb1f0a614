"""Notification events and their messages: pure (no I/O, no clock), so every message is testable as text.

`CycleWatcher` turns finished cycles into messages: every order placed, rejected or failed; a halt when it begins
(or its cause changes), not on every halted cycle; one message when `NOTIFY_ERROR_AFTER` cycles in a row ended in
`error`. Sending, filtering by `NOTIFY_EVENTS`, redaction and rate limits are the sender's (sender.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.domain import CycleStatus, OrderStatus

if TYPE_CHECKING:
    from bot.cycle.result import CycleResult
    from bot.execution.executor import OrderResult


class Event(enum.StrEnum):
    ORDER_PLACED = "order_placed"
    ORDER_REJECTED = "order_rejected"
    ORDER_FAILED = "order_failed"
    HALTED = "halted"
    ERROR_STREAK = "error_streak"
    AUTH_LOST = "auth_lost"
    HEALTH_STALE = "health_stale"
    START = "start"
    STOP = "stop"
    PROTECTION_FILLED = "protection_filled"  # a stop-loss or take-profit filled: the hook for later work


class Level(enum.StrEnum):
    """Apprise's notify types."""

    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    FAILURE = "failure"


@dataclass(frozen=True, slots=True)
class Message:
    event: Event
    title: str
    body: str
    level: Level = Level.INFO


def parse_events(text: str) -> frozenset[Event]:
    """NOTIFY_EVENTS: comma-separated event names; empty or `all` = every event. `ValueError` for an unknown one."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if not names or names == ["all"]:
        return frozenset(Event)
    known = {event.value for event in Event}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown event {unknown[0]!r}; known: all, {', '.join(sorted(known))}")
    return frozenset(Event(name) for name in names)


def _title(environment: str, what: str) -> str:
    return f"saxo-bot ({environment}): {what}"


def _num(value: Decimal | float | None) -> str:
    if value is None:
        return "?"
    number = Decimal(str(value))
    return f"{number.normalize():f}" if number == number.to_integral_value() else f"{number:f}"


def _order_line(result: OrderResult) -> str:
    intent = result.intent
    return f"{intent.side} {_num(intent.amount)} {intent.item.symbol} ({intent.instrument_id})"


def order_placed(
    result: OrderResult, environment: str, fill_price: Decimal | float | None = None, signal_price: float | None = None
) -> Message:
    price = f"filled at {_num(fill_price)}" if fill_price is not None else "fill price not known yet"
    if fill_price is None and signal_price is not None:
        price += f" (signal price {_num(signal_price)})"
    body = f"{_order_line(result)} placed: order {result.order_id or '?'}, {price}."
    return Message(Event.ORDER_PLACED, _title(environment, "order placed"), body, Level.SUCCESS)


def order_not_placed(result: OrderResult, environment: str) -> Message:
    """A rejected order (Saxo's precheck or order answer said no) or a failed one (it could not be sent)."""
    rejected = result.status is OrderStatus.REJECTED
    why = ": ".join(part for part in (result.error_code, result.error_message) if part) or "no reason given"
    body = f"{_order_line(result)} {'rejected' if rejected else 'failed'}: {why}."
    event = Event.ORDER_REJECTED if rejected else Event.ORDER_FAILED
    return Message(event, _title(environment, f"order {'rejected' if rejected else 'failed'}"), body, Level.WARNING)


def halted(reason: str, environment: str) -> Message:
    body = f"Cycles are halted: {reason}. No opening order is sent until the cause is gone."
    return Message(Event.HALTED, _title(environment, "halted"), body, Level.WARNING)


def error_streak(count: int, last_error: str | None, environment: str) -> Message:
    body = f"{count} cycles in a row ended in error. Last error: {last_error or 'not recorded'}."
    return Message(Event.ERROR_STREAK, _title(environment, f"{count} cycles in error"), body, Level.FAILURE)


def auth_lost(error: str, environment: str) -> Message:
    body = (
        f"Authentication failed and cannot be refreshed: {error}. The bot stops (exit code 3). "
        "Log in again: python main.py login (or a fresh SAXO_ACCESS_TOKEN)."
    )
    return Message(Event.AUTH_LOST, _title(environment, "authentication lost"), body, Level.FAILURE)


def health_stale(last_success_at: datetime | None, stale_after_seconds: float, environment: str) -> Message:
    since = f"the last successful cycle was at {last_success_at.isoformat()}" if last_success_at else "no cycle yet"
    body = f"Health is stale: {since} (more than {stale_after_seconds:g} s ago, inside trading hours)."
    return Message(Event.HEALTH_STALE, _title(environment, "health stale"), body, Level.FAILURE)


def started(environment: str, dry_run: bool, strategy: str, instruments: int) -> Message:
    mode = "dry run (precheck only)" if dry_run else "placing orders"
    body = f"Scheduler started: {mode}, strategy {strategy}, {instruments} instruments."
    return Message(Event.START, _title(environment, "started"), body)


def stopped(exit_code: int, environment: str) -> Message:
    body = f"Scheduler stopped (exit code {exit_code})."
    return Message(Event.STOP, _title(environment, "stopped"), body, Level.INFO if exit_code == 0 else Level.WARNING)


def protection_filled(instrument: str, kind: str, price: Decimal | float | None, environment: str) -> Message:
    """A stop-loss / take-profit fill (`kind`): the hook for when fills are watched (later work)."""
    body = f"{kind} filled on {instrument} at {_num(price)}."
    return Message(Event.PROTECTION_FILLED, _title(environment, f"{kind} filled"), body, Level.WARNING)


class CycleWatcher:
    """Messages from finished cycles; remembers the error streak and whether the bot is already halted."""

    def __init__(self, error_after: int) -> None:
        self.error_after = max(1, error_after)
        self.errors_in_a_row = 0
        self.current_halt: str | None = None
        self.seeded = False  # whether the streak and the halt were read from the metrics DB (hooks.after_cycle)

    def observe(self, result: CycleResult, environment: str) -> list[Message]:
        messages: list[Message] = []
        for order in result.execution.results:
            if order.status is OrderStatus.PLACED:
                decision = result.decisions.get(order.intent.instrument_id)
                messages.append(order_placed(order, environment, signal_price=decision.price if decision else None))
            elif order.status in (OrderStatus.REJECTED, OrderStatus.FAILED):
                messages.append(order_not_placed(order, environment))
        if result.status is CycleStatus.ERROR:
            self.errors_in_a_row += 1
            if self.errors_in_a_row == self.error_after:  # once per streak, not every cycle after
                messages.append(error_streak(self.errors_in_a_row, result.error, environment))
        else:
            self.errors_in_a_row = 0
        if result.status is CycleStatus.HALTED:
            cause = halt_cause(result.skip_reason or "")
            if cause != self.current_halt:
                messages.append(halted(result.skip_reason or "no reason given", environment))
            self.current_halt = cause
        elif result.status is CycleStatus.OK:  # a skipped or failed cycle says nothing about the halt's end
            self.current_halt = None
        return messages


def halt_cause(reason: str) -> str:
    """The kind of halt (kill switch, daily loss, ...): the reason without its changing figures."""
    return reason.split(":", 1)[0].strip().lower()
