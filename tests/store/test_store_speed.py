"""Reads stay fast on a big history and one cycle's writes stay cheap (SQLite, WAL, synchronous=NORMAL).

Speed is measured in `bench/db.py` (1,000,000 cycles), never asserted here: a timing limit fails on a busy
machine. What is pinned is what makes it fast: every query uses its index (a lost index is what would make a
table of a million cycles slow), and one cycle's writes cost a fixed, small number of statements.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, insert
from sqlalchemy.dialects import sqlite

from bot.clock import utc_iso
from bot.store import CycleCounts, OrderRecord, SignalRecord, Store, queries
from bot.store.models import cycles

N_CYCLES = 20_000
FIRST = datetime(2026, 1, 1, tzinfo=UTC)
STATUSES = ["ok"] * 7 + ["skipped", "halted", "error"]


def synthetic_cycles(n: int) -> list[dict]:
    rows = []
    for i in range(n):
        started = FIRST + timedelta(minutes=i)
        rows.append(
            {
                "started_at": utc_iso(started),
                "finished_at": utc_iso(started + timedelta(milliseconds=850)),
                "duration_ms": 850,
                "status": STATUSES[i % len(STATUSES)],
                "dry_run": False,
                "hours_mode": "always",
                "instruments": 6,
                "quotes_ok": 6,
                "signals_buy": i % 2,
                "signals_sell": (i + 1) % 2,
                "signals_hold": 5,
                "orders_placed": i % 2,
                "orders_rejected": int(i % 7 == 0),
            }
        )
    return rows


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path = tmp_path_factory.mktemp("speed") / "metrics.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    with store.engine.begin() as conn:
        conn.execute(insert(cycles), synthetic_cycles(N_CYCLES))  # one executemany
    yield store
    store.dispose()


def plan(store: Store, query) -> str:
    sql = str(query.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as conn:
        return " | ".join(row[3] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))


def test_history_is_quick_on_a_big_table(big_store: Store) -> None:
    newest = big_store.history(50)
    assert len(newest) == 50 and newest[0].id == N_CYCLES


def test_daily_summary_is_quick_on_a_big_table(big_store: Store) -> None:
    days = big_store.daily_summary()
    assert len(days) == 14
    assert days[0].day == (FIRST + timedelta(minutes=N_CYCLES - 1)).date().isoformat()
    assert sum(d.cycles for d in days[1:]) == 13 * 1440  # full days in the window


@pytest.mark.parametrize(
    ("name", "query", "index"),
    [
        ("history", queries.history(50), "ix_cycles_started_at"),
        ("daily", queries.daily(datetime(2026, 1, 14).date(), 14), "ix_cycles_started_at (started_at>? AND"),
        ("same bar", queries.acted("FxSpot:21", "BUY", "x"), "ix_orders_instrument_id_side_signal_bar_time"),
        ("detail orders", queries.orders_of(1), "ix_orders_cycle_id"),
        ("detail signals", queries.signals_of(1), "ix_signals_cycle_id"),
    ],
)
def test_queries_use_their_index(big_store: Store, name: str, query, index: str) -> None:
    found = plan(big_store, query)
    assert f"USING INDEX {index}" in found, f"{name}: {found}"
    assert "TEMP B-TREE FOR ORDER BY" not in found, f"{name}: {found}"


def test_writing_one_cycle_is_cheap(tmp_path) -> None:
    with Store(f"sqlite:///{tmp_path}/m.db") as store:
        store.migrate()
        now = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
        sigs = [SignalRecord(f"FxSpot:{k}", f"S{k}", "HOLD", 1.1, "no cross", now) for k in range(6)]

        def one_cycle() -> None:
            cycle_id = store.start_cycle(started_at=now, dry_run=False, hours_mode="always", instruments=6)
            store.add_signals(cycle_id, sigs)
            for k in range(2):
                row = store.add_order(
                    cycle_id,
                    OrderRecord(
                        f"FxSpot:{k}",
                        f"S{k}",
                        "BUY",
                        Decimal(1000),
                        external_reference=f"r{k}",
                        signal_bar_time=now,
                        created_at=now,
                    ),
                )
                store.update_order(row, status="placed", order_id=str(k), updated_at=now)
            store.finish_cycle(cycle_id, finished_at=now, status="ok", counts=CycleCounts(orders_placed=2))

        one_cycle()  # warm the pool and the statement cache
        statements: list[str] = []

        def count(conn: object, cursor: object, statement: str, *args: object) -> None:
            statements.append(statement.split()[0].upper())

        event.listen(store.engine, "before_cursor_execute", count)
        try:
            one_cycle()
        finally:
            event.remove(store.engine, "before_cursor_execute", count)
        writes = [s for s in statements if s in {"INSERT", "UPDATE", "DELETE"}]
        # start + signals (one executemany) + 2 x (insert + update) + finish: never a statement per row read back
        assert len(writes) == 7, statements
        assert len(statements) <= 9, statements
        assert len(store.history(100)) == 2
