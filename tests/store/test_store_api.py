"""Every Store method against a migrated database (SQLite here; PostgreSQL too with TEST_DATABASE_URL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.domain import Signal
from bot.errors import StoreError
from bot.store import CycleCounts, OrderRecord, SignalRecord, Store
from bot.store.models import events
from bot.store.records import INTERRUPTED
from tests.store.conftest import T0, at


def order(**overrides) -> OrderRecord:
    fields = {
        "instrument_id": "FxSpot:21",
        "symbol": "EURUSD",
        "side": "BUY",
        "amount": Decimal("100000"),
        "duration": "DayOrder",
        "opening": True,
        "external_reference": "c1-FxSpot:21",
        "request_id": "req-1",
        "signal_bar_time": T0,
        "created_at": T0,
    }
    fields.update(overrides)
    return OrderRecord(**fields)


def run_cycle(store: Store, started: datetime, status: str = "ok", **counts) -> int:
    cycle_id = store.start_cycle(started_at=started, dry_run=False, hours_mode="always", instruments=3)
    store.finish_cycle(
        cycle_id,
        finished_at=started.replace(microsecond=500_000),
        status=status,
        counts=CycleCounts(**counts),
    )
    return cycle_id


# -- cycles ---------------------------------------------------------------------------------------------


def test_start_cycle_inserts_a_running_row(store: Store) -> None:
    cycle_id = store.start_cycle(started_at=T0, dry_run=True, hours_mode="fixed", instruments=6)
    (cycle,) = store.history(1)
    assert cycle.id == cycle_id
    assert cycle.status == "running"
    assert cycle.started_at == "2026-11-24T14:30:00.000Z"
    assert cycle.finished_at is None and cycle.duration_ms is None
    assert cycle.dry_run is True and cycle.hours_mode == "fixed" and cycle.instruments == 6
    assert cycle.orders_placed == 0 and cycle.signals_buy == 0
    assert cycle.host_pid and ":" in cycle.host_pid


def test_finish_cycle_writes_counts_and_duration(store: Store) -> None:
    cycle_id = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=6)
    counts = CycleCounts(
        quotes_ok=5,
        signals_buy=1,
        signals_sell=2,
        signals_hold=3,
        orders_placed=2,
        orders_failed=1,
        orders_rejected=1,
        orders_blocked=1,
        orders_prechecked=4,
    )
    store.finish_cycle(
        cycle_id,
        finished_at=at(1.234),
        status="ok",
        counts=counts,
        total_value=Decimal("100123.45"),
        trading_day="2026-11-24",
    )
    (cycle,) = store.history(1)
    assert (cycle.status, cycle.duration_ms, cycle.finished_at) == ("ok", 1234, "2026-11-24T14:30:01.234Z")
    assert (cycle.quotes_ok, cycle.signals_buy, cycle.signals_sell, cycle.signals_hold) == (5, 1, 2, 3)
    assert (cycle.orders_placed, cycle.orders_failed, cycle.orders_rejected) == (2, 1, 1)
    assert (cycle.orders_blocked, cycle.orders_prechecked) == (1, 4)
    assert cycle.total_value == Decimal("100123.45") and cycle.trading_day == "2026-11-24"


def test_finish_cycle_keeps_skip_reason_and_error(store: Store) -> None:
    skipped = store.start_cycle(started_at=T0, dry_run=False, hours_mode="fixed", instruments=2)
    store.finish_cycle(
        skipped, finished_at=at(0.01), status="skipped", counts=CycleCounts(), skip_reason="market closed"
    )
    failed = store.start_cycle(started_at=at(60), dry_run=False, hours_mode="fixed", instruments=2)
    store.finish_cycle(failed, finished_at=at(61), status="error", counts=CycleCounts(), error="boom")
    newest, older = store.history(2)
    assert (newest.status, newest.error) == ("error", "boom")
    assert (older.status, older.skip_reason, older.duration_ms) == ("skipped", "market closed", 10)


def test_finish_cycle_rejects_unknown_status_and_unknown_cycle(store: Store) -> None:
    cycle_id = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
    with pytest.raises(ValueError, match="cycle status"):
        store.finish_cycle(cycle_id, finished_at=at(1), status="fine", counts=CycleCounts())
    with pytest.raises(ValueError):
        store.finish_cycle(cycle_id, finished_at=at(1), status="running", counts=CycleCounts())
    with pytest.raises(StoreError, match="no cycle 999"):
        store.finish_cycle(999, finished_at=at(1), status="ok", counts=CycleCounts())


def test_mark_interrupted_cycles(store: Store) -> None:
    done = run_cycle(store, T0)
    dead1 = store.start_cycle(started_at=at(60), dry_run=False, hours_mode="always", instruments=1)
    dead2 = store.start_cycle(started_at=at(120), dry_run=True, hours_mode="always", instruments=1)
    assert store.mark_interrupted_cycles(at(600)) == 2
    assert store.mark_interrupted_cycles(at(700)) == 0
    by_id = {c.id: c for c in store.history(10)}
    assert by_id[done].status == "ok" and by_id[done].error is None
    for cycle_id in (dead1, dead2):
        assert by_id[cycle_id].status == "error"
        assert by_id[cycle_id].error == INTERRUPTED
        assert by_id[cycle_id].finished_at == "2026-11-24T14:40:00.000Z"


def test_mark_interrupted_cycles_can_be_limited_to_one_host(store: Store) -> None:
    store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
    assert store.mark_interrupted_cycles(at(60), host="some-other-host") == 0
    assert store.mark_interrupted_cycles(at(60), host=store._host) == 1


# -- signals --------------------------------------------------------------------------------------------


def test_add_signals_in_one_go_and_read_them_back(store: Store) -> None:
    cycle_id = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=4)
    store.add_signals(
        cycle_id,
        [
            SignalRecord("FxSpot:21", "EURUSD", Signal.BUY, 1.0855, "fast crossed above slow", T0),
            SignalRecord(
                "Stock:211",
                "AAPL",
                "SELL",
                231.5,
                "fast crossed below slow",
                "2026-11-24T14:29:00.000Z",
            ),
            SignalRecord("FxSpot:31", "GBPUSD", "HOLD", None, "fewer than 21 bars"),
            SignalRecord("FxCrypto:24", "BTCUSD", "SKIP", None, "no quote: NoValidQuote"),
        ],
    )
    store.add_signals(cycle_id, [])  # nothing to do
    detail = store.cycle_detail(cycle_id)
    assert detail is not None
    _, sigs, _ = detail
    assert [s.signal for s in sigs] == ["BUY", "SELL", "HOLD", "SKIP"]
    assert sigs[0].price == pytest.approx(1.0855)
    assert sigs[0].bar_time == "2026-11-24T14:30:00.000Z"
    assert sigs[1].bar_time == "2026-11-24T14:29:00.000Z"
    assert sigs[2].price is None and sigs[2].reason == "fewer than 21 bars"


def test_add_signals_validates_the_signal(store: Store) -> None:
    cycle_id = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
    with pytest.raises(ValueError, match="signal"):
        store.add_signals(cycle_id, [SignalRecord("FxSpot:21", "EURUSD", "MAYBE")])


def test_rows_for_a_missing_cycle_are_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="could not record 1 signals"):
        store.add_signals(12345, [SignalRecord("FxSpot:21", "EURUSD", "HOLD")])
    with pytest.raises(StoreError):
        store.add_order(12345, order())


# -- orders ---------------------------------------------------------------------------------------------


def test_add_and_update_an_order(store: Store) -> None:
    cycle_id = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
    row_id = store.add_order(cycle_id, order(amount=Decimal("0.123456789")))
    store.update_order(
        row_id, status="prechecked", precheck_result="Ok", estimated_cost=Decimal("2.50"), updated_at=at(1)
    )
    store.update_order(row_id, status="placed", order_id="5001234", updated_at=at(2))
    detail = store.cycle_detail(cycle_id)
    assert detail is not None
    (row,) = detail[2]
    assert row.id == row_id and row.cycle_id == cycle_id
    assert row.amount == Decimal("0.123456789") and isinstance(row.amount, Decimal)
    assert row.estimated_cost == Decimal("2.5")
    assert (row.status, row.order_id, row.precheck_result) == ("placed", "5001234", "Ok")
    assert (row.side, row.order_type, row.duration, row.opening) == ("BUY", "Market", "DayOrder", True)
    assert row.signal_bar_time == "2026-11-24T14:30:00.000Z"
    assert row.created_at == "2026-11-24T14:30:00.000Z"
    assert row.updated_at == "2026-11-24T14:30:02.000Z"


def test_amounts_are_exact(store: Store) -> None:
    cycle_id = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
    values = [Decimal("0.1"), Decimal("123456789012345678.5"), Decimal("0.0000000001"), Decimal("100")]
    for value in values:
        store.add_order(cycle_id, order(amount=value, estimated_cost=value))
    detail = store.cycle_detail(cycle_id)
    assert detail is not None
    assert [o.amount for o in detail[2]] == values
    shown = [o.as_dict()["amount"] for o in detail[2]]
    assert shown == ["0.1", "123456789012345678.5", "0.0000000001", "100"]


def test_update_order_sets_updated_at_and_checks_its_input(store: Store) -> None:
    cycle_id = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
    row_id = store.add_order(cycle_id, order(created_at=datetime(2020, 1, 1, tzinfo=UTC)))
    store.update_order(row_id, error_code="TooFarFromMarket", error_message="price moved")
    (row,) = store.cycle_detail(cycle_id)[2]  # type: ignore[index]
    assert row.created_at == "2020-01-01T00:00:00.000Z"
    assert row.updated_at > "2025"  # the wall clock's now
    with pytest.raises(ValueError, match="cannot change"):
        store.update_order(row_id, cycle_id=2)
    with pytest.raises(ValueError, match="order status"):
        store.update_order(row_id, status="done")
    with pytest.raises(StoreError, match="no order row 999"):
        store.update_order(999, status="placed")


def test_add_order_validates_side_and_status(store: Store) -> None:
    cycle_id = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
    with pytest.raises(ValueError, match="side"):
        store.add_order(cycle_id, order(side="HOLD"))
    with pytest.raises(ValueError, match="order status"):
        store.add_order(cycle_id, order(status="sent"))


@pytest.mark.parametrize(
    ("status", "acted"),
    [
        ("placed", True),
        ("pending", True),
        ("prechecked", False),
        ("rejected", False),
        ("failed", False),
        ("blocked", False),
    ],
)
def test_same_bar_rule(store: Store, status: str, acted: bool) -> None:
    dry_run = status == "prechecked"
    cycle_id = store.start_cycle(started_at=T0, dry_run=dry_run, hours_mode="always", instruments=1)
    store.add_order(cycle_id, order(status=status))
    assert store.signal_already_acted("FxSpot:21", "BUY", T0) is acted
    assert store.signal_already_acted("FxSpot:21", "BUY", "2026-11-24T14:30:00.000Z") is acted
    assert store.signal_already_acted("FxSpot:21", "SELL", T0) is False
    assert store.signal_already_acted("FxSpot:21", "BUY", at(60)) is False
    assert store.signal_already_acted("Stock:21", "BUY", T0) is False


def test_same_bar_rule_follows_status_updates(store: Store) -> None:
    cycle_id = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
    row_id = store.add_order(cycle_id, order())
    assert store.signal_already_acted("FxSpot:21", "BUY", T0)  # pending: outcome unknown, do not resend
    store.update_order(row_id, status="rejected", error_code="InsufficientFunds")
    assert not store.signal_already_acted("FxSpot:21", "BUY", T0)


def test_orders_needing_reconciliation(store: Store) -> None:
    cycle_id = store.start_cycle(started_at=T0, dry_run=False, hours_mode="always", instruments=1)
    pending = store.add_order(cycle_id, order(external_reference="r-pending"))
    failed = store.add_order(
        cycle_id,
        order(
            status="failed",
            external_reference="r-failed",
            created_at=at(5),
        ),
    )
    store.add_order(cycle_id, order(status="failed", external_reference=None))
    store.add_order(cycle_id, order(status="placed", external_reference="r-placed"))
    store.add_order(cycle_id, order(status="blocked", external_reference="r-blocked"))
    found = store.orders_needing_reconciliation()
    assert [o.id for o in found] == [failed, pending]  # newest first
    assert [o.id for o in store.orders_needing_reconciliation(limit=1)] == [failed]
    assert [o.id for o in store.orders_needing_reconciliation(since=at(1))] == [failed]


# -- baselines and events -------------------------------------------------------------------------------


def test_day_baseline_first_writer_wins(store: Store) -> None:
    assert store.day_baseline("2026-11-24") is None
    store.set_day_baseline("2026-11-24", Decimal("100000.10"), "USD", T0)
    store.set_day_baseline("2026-11-24", Decimal("99000"), "USD", at(60))
    assert store.day_baseline("2026-11-24") == Decimal("100000.10")
    store.set_day_baseline("2026-11-25", Decimal("99000"), "USD", at(0, days=1))
    assert store.day_baseline("2026-11-25") == Decimal("99000")


def test_day_baseline_race_between_two_processes(db_url: str) -> None:
    """Two stores on one database: the second insert loses quietly, whichever it is."""
    first, second = Store(db_url), Store(db_url)
    try:
        first.migrate()
        first.set_day_baseline("2026-11-24", Decimal("1"), "EUR", T0)
        second.set_day_baseline("2026-11-24", Decimal("2"), "EUR", T0)
        assert second.day_baseline("2026-11-24") == Decimal("1")
    finally:
        first.dispose()
        second.dispose()


def test_add_event(store: Store) -> None:
    cycle_id = run_cycle(store, T0)
    store.add_event("startup", "bot started", at=T0)
    store.add_event(
        "job_error",
        "cycle raised",
        at=at(1),
        cycle_id=cycle_id,
        details={"exception": "ValueError", "amount": Decimal("1.5")},
    )
    with store.engine.connect() as conn:
        rows = conn.execute(select(events).order_by(events.c.id)).mappings().all()
    assert [r["kind"] for r in rows] == ["startup", "job_error"]
    assert rows[0]["at"] == "2026-11-24T14:30:00.000Z" and rows[0]["details"] is None
    assert rows[1]["cycle_id"] == cycle_id
    assert json.loads(rows[1]["details"]) == {"amount": "1.5", "exception": "ValueError"}


# -- reading --------------------------------------------------------------------------------------------


def test_history_is_newest_first_and_limited(store: Store) -> None:
    ids = [run_cycle(store, at(60 * i)) for i in range(5)]
    assert [c.id for c in store.history()] == ids[::-1]
    assert [c.id for c in store.history(2)] == ids[:2:-1]
    assert store.history(0) == []


def test_empty_database_reads(store: Store) -> None:
    assert store.history() == []
    assert store.daily_summary() == []
    assert store.cycle_detail(1) is None
    assert store.orders_needing_reconciliation() == []


def test_cycle_detail(store: Store) -> None:
    cycle_id = run_cycle(store, T0, signals_buy=1, orders_placed=1)
    other = run_cycle(store, at(60))
    store.add_signals(other, [SignalRecord("FxSpot:21", "EURUSD", "HOLD")])
    store.add_signals(cycle_id, [SignalRecord("FxSpot:21", "EURUSD", "BUY", 1.1, "cross", T0)])
    store.add_order(cycle_id, order(status="placed", order_id="77"))
    detail = store.cycle_detail(cycle_id)
    assert detail is not None
    cycle, sigs, ords = detail
    assert cycle.id == cycle_id and len(sigs) == 1 and len(ords) == 1
    assert ords[0].order_id == "77"


def test_daily_summary(store: Store) -> None:
    run_cycle(store, at(0, days=-20))  # outside a 14-day window
    run_cycle(store, at(0, days=-1), status="ok", orders_placed=2, orders_rejected=1)
    run_cycle(store, at(60, days=-1), status="error", orders_failed=1)
    run_cycle(store, at(0), status="ok", orders_placed=1, orders_blocked=3)
    run_cycle(store, at(60), status="skipped")
    run_cycle(store, at(120), status="halted")
    store.start_cycle(started_at=at(180), dry_run=False, hours_mode="always", instruments=1)
    today, yesterday = store.daily_summary()
    assert today.day == "2026-11-24"
    assert (today.cycles, today.ok, today.skipped, today.halted) == (4, 1, 1, 1)
    assert (today.errors, today.running) == (0, 1)
    assert (today.orders_placed, today.orders_blocked) == (1, 3)
    assert yesterday.day == "2026-11-23"
    assert (yesterday.cycles, yesterday.ok, yesterday.errors) == (2, 1, 1)
    assert (yesterday.orders_placed, yesterday.orders_rejected, yesterday.orders_failed) == (2, 1, 1)
    assert [d.day for d in store.daily_summary(1)] == ["2026-11-24"]
    assert len(store.daily_summary(30)) == 3
    assert [d.day for d in store.daily_summary(2, now=at(0, days=-1))] == ["2026-11-23"]


def test_views_turn_into_json(store: Store) -> None:
    cycle_id = run_cycle(store, T0)
    store.add_order(cycle_id, order(estimated_cost=Decimal("1.25")))
    detail = store.cycle_detail(cycle_id)
    assert detail is not None
    cycle, _, (row,) = detail
    assert json.loads(json.dumps(cycle.as_dict()))["status"] == "ok"
    dumped = json.loads(json.dumps(row.as_dict()))
    assert dumped["amount"] == "100000" and dumped["estimated_cost"] == "1.25"
    assert json.loads(json.dumps([d.as_dict() for d in store.daily_summary()]))[0]["cycles"] == 1


def test_naive_datetimes_are_taken_as_utc(store: Store) -> None:
    naive = datetime(2026, 11, 24, 14, 30)
    store.start_cycle(started_at=naive, dry_run=False, hours_mode="always", instruments=1)
    (last,) = store.history(1)
    assert last.started_at == "2026-11-24T14:30:00.000Z"


def test_sqlite_connection_settings(tmp_path) -> None:
    with Store(f"sqlite:///{tmp_path}/new/folder/m.db") as store:
        store.migrate()
        with store.engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
            }
    assert pragma == {"journal_mode": "wal", "busy_timeout": 5000, "foreign_keys": 1, "synchronous": 1}
    assert (tmp_path / "new" / "folder" / "m.db").is_file()
