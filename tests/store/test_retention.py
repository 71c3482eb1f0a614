"""DB_RETENTION_DAYS: old cycles (with their signals) and events go, orders and what they reference stay."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.errors import StopRequested
from bot.store import CycleCounts, OrderRecord, SignalRecord, Store
from bot.store.models import cycles, events, orders, signals
from bot.store.retention import Pruned, prune
from tests.store.conftest import at


def cycle(store: Store, days_ago: int, *, with_order: bool = False, finished: bool = True) -> int:
    started = at(days=-days_ago)
    cycle_id = store.start_cycle(started_at=started, dry_run=False, hours_mode="always", instruments=2)
    store.add_signals(
        cycle_id,
        [SignalRecord("FxSpot:21", "EURUSD", "HOLD", 1.1, "no cross"), SignalRecord("Stock:211", "AAPL", "BUY")],
    )
    if with_order:
        store.add_order(cycle_id, OrderRecord("Stock:211", "AAPL", "BUY", Decimal(1), status="placed",
                                              created_at=started))  # fmt: skip
    if finished:
        store.finish_cycle(cycle_id, finished_at=started, status="ok", counts=CycleCounts())
    return cycle_id


def count(store: Store, table, where=None) -> int:  # type: ignore[no-untyped-def]
    query = select(func.count()).select_from(table)
    if where is not None:
        query = query.where(where)
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def ids(store: Store) -> list[int]:
    with store.engine.connect() as conn:
        return list(conn.execute(select(cycles.c.id).order_by(cycles.c.id)).scalars())


def test_old_cycles_and_their_signals_go_orders_and_their_cycles_stay(store: Store) -> None:
    old = [cycle(store, 120), cycle(store, 100), cycle(store, 91)]
    with_order = cycle(store, 110, with_order=True)
    still_running = cycle(store, 95, finished=False)
    recent = [cycle(store, 89), cycle(store, 1)]
    store.add_event("startup", "old", at=at(days=-100), cycle_id=old[0])
    store.add_event("startup", "recent", at=at(days=-2))

    pruned = prune(store, at(days=-90))

    assert pruned == Pruned(cycles=3, signals=6, events=1, batches=2)
    assert ids(store) == sorted([with_order, still_running, *recent])
    assert count(store, signals) == 2 * 4  # the kept cycles keep their signals, the order's cycle included
    assert count(store, signals, signals.c.cycle_id.in_(old)) == 0
    assert count(store, orders) == 1 and store.cycle_detail(with_order) is not None
    with store.engine.connect() as conn:
        assert list(conn.execute(select(events.c.message)).scalars()) == ["recent"]
    assert prune(store, at(days=-90)) == Pruned()  # nothing left to do


def test_pruning_goes_in_batches_with_a_pause_between_them(store: Store) -> None:
    made = [cycle(store, 200 - k) for k in range(7)]
    kept = cycle(store, 150, with_order=True)  # ids after it still get pruned: it never stalls the walk
    made += [cycle(store, 140), cycle(store, 130)]
    pauses: list[float] = []

    pruned = prune(store, at(days=-90), batch_size=3, pause=0.25, sleep=pauses.append)

    assert pruned.cycles == 9 and pruned.signals == 18 and pruned.batches == 3
    assert pauses == [0.25, 0.25, 0.25]
    assert ids(store) == [kept]
    assert made  # every one of them is gone


def test_a_stop_between_batches_ends_the_pass_and_keeps_what_was_done(store: Store) -> None:
    for k in range(5):
        cycle(store, 200 - k)
    newest = cycle(store, 10)

    def stop(_seconds: float) -> None:
        raise StopRequested("stop requested")

    with pytest.raises(StopRequested):
        prune(store, at(days=-90), batch_size=2, sleep=stop)
    assert len(ids(store)) == 4  # one batch of two was committed; the rest waits for the next pass
    assert prune(store, at(days=-90)).cycles == 3 and ids(store) == [newest]


def test_nothing_to_prune_on_an_empty_db(store: Store) -> None:
    assert prune(store, at()) == Pruned()
