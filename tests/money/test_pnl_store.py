"""The store's side of P&L: fills recorded, realised P&L replayed per instrument (orders and stop legs), the wait
for an unknown fill, and the daily P&L per trading day (`history --days`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest

from bot.commands.history_format import render_daily_pnl
from bot.store import CycleCounts, OrderRecord, Store
from bot.store.legs import LegRecord
from bot.store.pnl import NOT_FILLED

TZ = "America/New_York"
DAY1 = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 10:00 in New York
DAY2 = DAY1 + timedelta(days=1)


@pytest.fixture
def store(tmp_path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'bot.db'}") as store:
        store.migrate()
        yield store


def cycle(store: Store, at: datetime, value: str | None) -> int:
    cycle_id = store.start_cycle(started_at=at, dry_run=False, hours_mode="always", instruments=1)
    total = None if value is None else D(value)
    store.finish_cycle(cycle_id, finished_at=at, status="ok", counts=CycleCounts(), total_value=total)
    return cycle_id


def order(store: Store, cycle_id: int, side: str, amount: str, at: datetime, order_id: str) -> int:
    record = OrderRecord("Stock:211", "AAPL", side, D(amount), status="placed", order_id=order_id, created_at=at)
    return store.add_order(cycle_id, record)


def realised(store: Store, cycle_id: int) -> list[D | None]:
    detail = store.cycle_detail(cycle_id)
    assert detail is not None
    return [o.realized_pnl for o in detail[2]]


def test_a_close_waits_for_the_open_fill_then_realises(store: Store) -> None:
    c = cycle(store, DAY1, "1000")
    buy = order(store, c, "BUY", "5", DAY1, "1")
    sell = order(store, c, "SELL", "5", DAY1 + timedelta(minutes=1), "2")
    store.record_fill(sell, D("110"), DAY1, DAY1)
    store.update_realized_pnl(["Stock:211"], DAY1)
    assert realised(store, c) == [None, None]  # the BUY's fill is unknown: no P&L against a guess
    assert [o.order_id for o in store.orders_without_fill(DAY1)] == ["1"]

    store.record_fill(buy, D("100"), DAY1, DAY1)
    assert store.update_realized_pnl(["Stock:211"], DAY1) == 1
    assert realised(store, c) == [None, D(50)]
    assert store.update_realized_pnl(["Stock:211"], DAY1) == 0  # nothing changed: nothing written
    assert store.orders_without_fill(DAY1) == []


def test_an_order_that_ended_unfilled_is_no_longer_looked_up_nor_counted(store: Store) -> None:
    c = cycle(store, DAY1, "1000")
    ended = order(store, c, "BUY", "5", DAY1, "1")
    store.record_not_filled(ended, DAY1)
    buy = order(store, c, "BUY", "5", DAY1 + timedelta(minutes=1), "2")
    sell = order(store, c, "SELL", "5", DAY1 + timedelta(minutes=2), "3")
    store.record_fill(buy, D("100"), None, DAY1)
    store.record_fill(sell, D("90"), None, DAY1)
    store.update_realized_pnl(["Stock:211"], DAY1)
    detail = store.cycle_detail(c)
    assert detail is not None
    assert [(o.error_code, o.realized_pnl) for o in detail[2]] == [(NOT_FILLED, None), (None, None), (None, D(-50))]
    assert store.orders_without_fill(DAY1) == []


def test_a_filled_stop_leg_closes_the_position(store: Store) -> None:
    c = cycle(store, DAY1, "1000")
    buy = order(store, c, "BUY", "5", DAY1, "1")
    store.record_fill(buy, D("100"), None, DAY1)
    store.add_legs(buy, "Stock:211", [LegRecord("stop_loss", "9", "SELL", D(5), D(95))], DAY1)
    [leg] = store.legs_of(buy)
    store.update_leg(leg.id, DAY1 + timedelta(minutes=5), status="filled", fill_price=D("94.5"))
    assert store.instruments_awaiting_pnl() == {"Stock:211"}
    store.update_realized_pnl(["Stock:211"], DAY1)
    [leg] = store.legs_of(buy)
    assert leg.realized_pnl == D("-27.5")
    assert store.instruments_awaiting_pnl() == set()
    assert store.realized_pnl_total() == D("-27.5")

    # A later BUY opens afresh (the stop closed the position), so the next SELL is measured against it alone.
    buy2 = order(store, c, "BUY", "5", DAY1 + timedelta(minutes=10), "3")
    sell2 = order(store, c, "SELL", "5", DAY1 + timedelta(minutes=11), "4")
    store.record_fill(buy2, D("90"), None, DAY1)
    store.record_fill(sell2, D("91"), None, DAY1)
    store.update_realized_pnl(["Stock:211"], DAY1)
    assert realised(store, c)[-1] == D(5)
    assert store.realized_pnl_total() == D("-22.5")


def test_daily_pnl_per_trading_day(store: Store) -> None:
    store.set_day_baseline("2026-11-24", D("1000"), "USD", DAY1)
    c1 = cycle(store, DAY1, "1000")
    cycle(store, DAY1 + timedelta(hours=5), "1012.5")  # 15:00 New York: the day's last value
    cycle(store, DAY1 + timedelta(hours=6), None)  # a skipped cycle read no balance: not the day's end value
    buy = order(store, c1, "BUY", "5", DAY1, "1")
    sell = order(store, c1, "SELL", "5", DAY1 + timedelta(hours=1), "2")
    store.record_fill(buy, D("100"), None, DAY1)
    store.record_fill(sell, D("102"), None, DAY1)
    store.update_realized_pnl(["Stock:211"], DAY1)
    store.set_day_baseline("2026-11-25", D("1012"), "USD", DAY2)
    cycle(store, DAY2, "1001")

    newest, oldest = store.daily_pnl(14, TZ)
    assert (newest.day, newest.baseline, newest.end_value, newest.pnl, newest.realized_pnl) == (
        "2026-11-25",
        D(1012),
        D(1001),
        D(-11),
        D(0),
    )
    assert (oldest.day, oldest.end_value, oldest.pnl, oldest.realized_pnl) == (
        "2026-11-24",
        D("1012.5"),
        D("12.5"),
        D(10),
    )
    assert [d.day for d in store.daily_pnl(1, TZ)] == ["2026-11-25"]
    assert [d.day for d in store.daily_pnl(14, TZ, now=DAY1)] == ["2026-11-24"]

    text = render_daily_pnl([newest, oldest], TZ).splitlines()
    assert text[0].split() == [
        "trading",
        "day",
        "(America/New_York)",
        "baseline",
        "last",
        "value",
        "P&L",
        "P&L",
        "%",
        "realised",
    ]
    assert text[2].split() == ["2026-11-25", "1012", "1001", "-11", "-1.09%", "0"]
    assert text[3].split() == ["2026-11-24", "1000", "1012.5", "+12.5", "+1.25%", "+10"]
    assert newest.as_dict() == {
        "day": "2026-11-25",
        "baseline": "1012",
        "end_value": "1001",
        "pnl": "-11",
        "realized_pnl": "0",
    }


def test_bots_sharing_the_db_settle_and_realise_their_own_orders_only(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    with Store(url, bot="jobs_a") as a, Store(url, bot="jobs_b") as b:
        a.migrate()
        c = cycle(a, DAY1, "1000")
        a_buy = order(a, c, "BUY", "5", DAY1, "1")
        b_buy = order(b, c, "BUY", "5", DAY1 + timedelta(minutes=1), "2")  # another account, the same instrument
        a_sell = order(a, c, "SELL", "5", DAY1 + timedelta(minutes=2), "3")
        assert [o.order_id for o in b.orders_without_fill(DAY1)] == ["2"]  # only its own go to its Saxo account
        a.record_fill(a_buy, D("100"), DAY1, DAY1)
        a.record_fill(a_sell, D("110"), DAY1, DAY1)
        assert a.update_realized_pnl(["Stock:211"], DAY1) == 1  # b's unknown fill does not hold a's P&L back
        b.record_fill(b_buy, D("90"), DAY1, DAY1)
        b.update_realized_pnl(["Stock:211"], DAY1)
        assert realised(a, c) == [None, None, D(50)]  # a's sell closes a's buy at 100, not an average with b's 90
