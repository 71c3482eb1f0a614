"""Recording a cycle: unsent orders keep the planner's and the risk check's codes; refused summaries wait, typed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from bot.cycle.record import record_cycle, record_late_summaries, record_not_sent
from bot.cycle.result import CycleResult, CycleSummary
from bot.domain import CycleStatus, Duration, NoOrderCode, OrderIntent, OrderStatus, RiskRule, Side, WatchItem
from bot.errors import StoreError
from bot.execution.planner import NoOrder
from bot.risk import Blocked
from bot.store import Store

T0 = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
ITEM = WatchItem("FxSpot", 21, "EURUSD")


class Clock:
    def now(self) -> datetime:
        return T0 + timedelta(seconds=2)


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'bot.db'}")
    store.migrate()
    yield store
    store.dispose()


def context(store: Any) -> Any:
    settings = SimpleNamespace(items=(ITEM,), timezone="America/New_York")
    return SimpleNamespace(settings=settings, clock=Clock(), store=store, unrecorded=[])


def started(store: Store) -> CycleResult:
    cycle_id = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
    return CycleResult(cycle_id=cycle_id, status=CycleStatus.OK, started_at=T0)


def test_unsent_orders_are_recorded_blocked_with_the_code_they_carry(store: Store) -> None:
    ctx = context(store)
    result = started(store)
    # The reason mentions a "minimum", yet the planner said NotTradable: the code wins (it used to be guessed).
    not_sent = [NoOrder(ITEM.id, "not tradable (minimum lot unknown)", NoOrderCode.NOT_TRADABLE, Side.SELL, Decimal(5))]
    intent = OrderIntent(ITEM, Side.BUY, Decimal(1000), Duration.DAY, "sb-1-FxSpot-21-B-0123456789", "rid", True)
    blocked = [Blocked(intent, RiskRule.MAX_ORDERS_PER_CYCLE, "MAX_ORDERS_PER_CYCLE: 10 orders already")]
    record_not_sent(ctx, result, not_sent, blocked)
    detail = store.cycle_detail(result.cycle_id or 0)
    assert detail is not None
    rows = sorted(detail[2], key=lambda o: o.side)
    assert [(o.side, o.status, o.error_code) for o in rows] == [
        ("BUY", "blocked", "MAX_ORDERS_PER_CYCLE"),
        ("SELL", "blocked", "NotTradable"),
    ]
    assert all(type(o.status) is str for o in rows)  # the DB gives back plain strings, equal to the names
    assert rows[0].status == OrderStatus.BLOCKED


class RefusingStore:
    """Refuses cycle summaries until `fixed`, then hands them to the real store."""

    def __init__(self, store: Store) -> None:
        self.store, self.fixed = store, False

    def finish_cycle(self, cycle_id: int, **summary: Any) -> None:
        if not self.fixed:
            raise StoreError("database is locked")
        self.store.finish_cycle(cycle_id, **summary)


def test_a_refused_summary_waits_in_the_context_and_is_written_next_time(store: Store) -> None:
    refusing = RefusingStore(store)
    ctx = context(refusing)
    result = started(store)
    result.status = CycleStatus.HALTED
    record_cycle(ctx, result)
    (waiting,) = ctx.unrecorded
    assert isinstance(waiting, CycleSummary) and waiting.cycle_id == result.cycle_id
    assert waiting.status is CycleStatus.HALTED
    with pytest.raises(StoreError):
        record_late_summaries(ctx)  # still down: kept for the next cycle
    assert len(ctx.unrecorded) == 1
    refusing.fixed = True
    record_late_summaries(ctx)
    assert ctx.unrecorded == []
    row = store.cycle_detail(result.cycle_id or 0)
    assert row is not None and row[0].status == "halted"
