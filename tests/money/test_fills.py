"""settle_fills with a scripted order log: filled orders get their price, ended ones are marked and dropped,
an order known only by its position is not looked up, and a failing log read leaves everything for next time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from bot.domain.models import OrderFate
from bot.errors import SaxoError
from bot.execution.fills import settle_fills
from bot.store import CycleCounts, OrderRecord, Store
from bot.store.pnl import NOT_FILLED

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


class Log:
    def __init__(self, fates: dict[str, OrderFate] | Exception) -> None:
        self.fates = fates
        self.asked: list[list[str]] = []

    def order_fates(self, order_ids: list[str], since: datetime, account_key: str) -> dict[str, OrderFate]:
        self.asked.append(list(order_ids))
        if isinstance(self.fates, Exception):
            raise self.fates
        return self.fates


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'bot.db'}") as store:
        store.migrate()
        yield store


def context(store: Store, log: Log) -> Any:
    clock = SimpleNamespace(now=lambda: NOW)
    return SimpleNamespace(store=store, saxo=log, clock=clock, account=SimpleNamespace(account_key="ak"))


def orders(store: Store, *order_ids: str) -> int:
    cycle = store.start_cycle(started_at=NOW, dry_run=False, hours_mode="always", instruments=1)
    store.finish_cycle(cycle, finished_at=NOW, status="ok", counts=CycleCounts())
    for n, order_id in enumerate(order_ids):
        at = NOW - timedelta(minutes=10 - n)
        store.add_order(
            cycle, OrderRecord("FxSpot:21", "EURUSD", "BUY", Decimal(1000), "placed", order_id=order_id, created_at=at)
        )
    return cycle


def test_filled_ended_and_position_only_orders(store: Store) -> None:
    cycle = orders(store, "11", "12", "position:7", "13")
    log = Log(
        {
            "11": OrderFate("11", "filled", Decimal("1.1"), NOW - timedelta(minutes=9)),
            "12": OrderFate("12", "ended", None, NOW),
            "13": OrderFate("13", "working"),
        }
    )
    assert settle_fills(context(store, log)) == ["FxSpot:21"]
    assert sorted(log.asked[0]) == ["11", "12", "13"]  # "position:7" is not an order the log can show
    detail = store.cycle_detail(cycle)
    assert detail is not None
    rows = {o.order_id: o for o in detail[2]}
    assert (rows["11"].fill_price, rows["11"].filled_at) == (Decimal("1.1"), "2026-11-24T14:51:00.000Z")
    assert rows["12"].error_code == NOT_FILLED and rows["12"].fill_price is None
    assert rows["13"].fill_price is None and rows["13"].error_code is None
    assert [o.order_id for o in store.orders_without_fill(NOW)] == ["13", "position:7"]


def test_a_failing_log_read_is_no_error_and_changes_nothing(store: Store) -> None:
    orders(store, "11")
    assert settle_fills(context(store, Log(SaxoError("503 from the order log")))) == []
    assert [o.order_id for o in store.orders_without_fill(NOW)] == ["11"]


def test_no_read_when_no_order_lacks_its_fill(store: Store) -> None:
    log = Log({})
    assert settle_fills(context(store, log)) == []
    assert log.asked == []
