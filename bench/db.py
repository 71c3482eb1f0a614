"""Benchmark 5: the metrics DB with 1,000,000 cycles: history, daily summary, and one cycle's writes.

The DB is SQLite, made by the bot's own migrations (`Store.migrate()`: the real tables and indexes), then filled
with one fast `executemany` per table (plain sqlite3, no ORM), deterministic content:

* 1,000,000 cycles, one every ~95 s over three years (2023-01-01 to 2026-01-01), 85% ok, 10% skipped,
  4% error, 1% halted, with realistic counts, durations and texts;
* the signals of the newest 100,000 cycles (6 per traded cycle: ~510,000 rows);
* an order for one cycle in 50 over the whole history (20,000 rows), most placed, some rejected or blocked.

It is kept in bench/.cache/ (gitignored) and rebuilt only when `BUILD` changes; the bot's migrations run on it
each time, so a new schema revision is applied as it would be to a user's DB.

Timed through the `Store` API, median of several runs each (a first call, which opens the connection, is not
counted): `history(50)` (what `main.py history --last 50` reads), `daily_summary()` (14 days) and the writes of
one cycle: start_cycle + add_signals(6) + add_order x2 + update_order x2 + finish_cycle, each its own
transaction as in a real cycle. The written rows are deleted afterwards so the cached DB stays as built.

Baseline: the same three on a DB built the same way with 1,000 cycles, same run.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import CACHE, Row, log, median, row, temp_dir, timed

BUILD = 1  # bump when the generated content changes
BIG = 1_000_000
SMALL = 1_000
FIRST = datetime(2023, 1, 1, tzinfo=UTC)
LAST = datetime(2026, 1, 1, tzinfo=UTC)
SIGNAL_CYCLES = 100_000  # the newest cycles that get signal rows
ORDER_EVERY = 50
GOAL_READ = ("<", 50.0)
GOAL_WRITE = ("<", 5.0)
SYMBOLS = [
    ("FxSpot:21", "EURUSD", 1.085),
    ("FxSpot:31", "GBPUSD", 1.27),
    ("FxSpot:42", "USDJPY", 150.2),
    ("FxCrypto:21700189", "BTCUSD", 64000.0),
    ("Stock:211", "AAPL:xnas", 190.0),
    ("Stock:261", "MSFT:xnas", 415.0),
]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _cycle_rows(n: int, rng: random.Random) -> list[tuple[Any, ...]]:
    step = (LAST - FIRST) / n
    rows = []
    for i in range(n):
        started = FIRST + step * i
        duration = rng.randint(120, 900)
        draw = rng.random()
        status = "ok" if draw < 0.85 else "skipped" if draw < 0.95 else "error" if draw < 0.99 else "halted"
        traded = status in ("ok", "halted")
        buy = sell = 0
        if traded:
            buy, sell = int(rng.random() < 0.08), int(rng.random() < 0.08)
        placed = int(traded and i % ORDER_EVERY == 0)
        rows.append(
            (
                _iso(started),
                _iso(started + timedelta(milliseconds=duration)),
                duration,
                status,
                "outside trading hours" if status == "skipped" else "kill switch" if status == "halted" else None,
                0,
                "always",
                6,
                6 if traded else 0,
                buy,
                sell,
                6 - buy - sell if traded else 0,
                placed,
                0,
                int(status == "error" and i % 7 == 0),
                0,
                0,
                "SaxoTimeout: no answer within (3.05, 15.0) s" if status == "error" else None,
                f"{1_000_000 + rng.uniform(-5000, 5000):.2f}" if traded else None,
                started.date().isoformat(),
                "bench-host:4242",
            )
        )
    return rows


def build(path: Path, n: int) -> None:
    """Make a migrated SQLite DB at `path` holding `n` synthetic cycles with their signals and orders."""
    from bot.store import Store

    store = Store(f"sqlite:///{path}")
    store.migrate()
    store.dispose()
    rng = random.Random(20260101)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    with conn:
        conn.executemany(
            "INSERT INTO cycles (started_at, finished_at, duration_ms, status, skip_reason, dry_run, hours_mode, "
            "instruments, quotes_ok, signals_buy, signals_sell, signals_hold, orders_placed, orders_failed, "
            "orders_rejected, orders_blocked, orders_prechecked, error, total_value, trading_day, host_pid) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _cycle_rows(n, rng),
        )
        newest = conn.execute("SELECT id, started_at, status FROM cycles WHERE id > ?", (n - SIGNAL_CYCLES,))
        signal_rows = []
        for cycle_id, started_at, status in newest:
            if status not in ("ok", "halted"):
                continue
            bar = started_at[:17] + "00.000Z"
            for iid, symbol, price in SYMBOLS:
                signal = "BUY" if rng.random() < 0.015 else "SELL" if rng.random() < 0.015 else "HOLD"
                reason = f"no cross (SMA5 {price:.5f}->{price * 1.0001:.5f}, SMA20 {price:.5f}->{price:.5f})"
                signal_rows.append((cycle_id, iid, symbol, signal, price, reason, bar))
        conn.executemany(
            "INSERT INTO signals (cycle_id, instrument_id, symbol, signal, price, reason, bar_time) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            signal_rows,
        )
        order_rows = []
        for cycle_id, started_at in conn.execute("SELECT id, started_at FROM cycles WHERE id % ? = 0", (ORDER_EVERY,)):
            iid, symbol, price = SYMBOLS[cycle_id % len(SYMBOLS)]
            status = "placed" if cycle_id % 10 else "rejected" if cycle_id % 20 else "blocked"
            side = "BUY" if cycle_id % 3 else "SELL"
            reference = f"sb-{cycle_id}-{iid.replace(':', '-')}-{side[0]}"
            order_rows.append(
                (cycle_id, iid, symbol, side, "10000", "Market", "DayOrder", status, "Ok", f"{price * 0.0001:.2f}",
                 str(10_000_000 + cycle_id) if status == "placed" else None, reference, f"req-{cycle_id}",
                 None if status == "placed" else "InsufficientFunds", None, started_at[:17] + "00.000Z",
                 1, started_at, started_at)
            )  # fmt: skip
        conn.executemany(
            "INSERT INTO orders (cycle_id, instrument_id, symbol, side, amount, order_type, duration, status, "
            "precheck_result, estimated_cost, order_id, external_reference, request_id, error_code, error_message, "
            "signal_bar_time, opening, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            order_rows,
        )
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def cached_big_db() -> Path:
    """The 1M-cycle DB in bench/.cache/, built on first use (or when BUILD changed)."""
    path = CACHE / "metrics-1m.db"
    marker = CACHE / "metrics-1m.json"
    wanted = {"build": BUILD, "cycles": BIG}
    if path.exists() and marker.exists() and json.loads(marker.read_text()) == wanted:
        return path
    CACHE.mkdir(exist_ok=True)
    for stale in (path, marker, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    log(f"5: building a {BIG:,}-cycle DB in {CACHE} (once; kept for later runs)")
    seconds, _ = timed(lambda: build(path, BIG))
    log(f"5: built in {seconds:.0f} s, {path.stat().st_size / 1e6:.0f} MB")
    marker.write_text(json.dumps(wanted))
    return path


def one_cycle_of_writes(store: Any, now: datetime) -> None:
    """What a cycle with two orders writes, through the Store API (each call its own transaction)."""
    from bot.store import CycleCounts, OrderRecord, SignalRecord

    cycle_id = store.start_cycle(started_at=now, dry_run=False, hours_mode="always", instruments=6)
    store.add_signals(
        cycle_id,
        [SignalRecord(iid, symbol, "HOLD", price, "no cross", now) for iid, symbol, price in SYMBOLS],
    )
    for iid, symbol, _ in SYMBOLS[:2]:
        order = OrderRecord(
            iid, symbol, "BUY", Decimal(10000), duration="DayOrder", opening=True,
            external_reference=f"sb-{cycle_id}-{iid}-B", request_id=f"req-{cycle_id}-{iid}", created_at=now,
        )  # fmt: skip
        row_id = store.add_order(cycle_id, order)
        store.update_order(row_id, status="placed", order_id=f"5{cycle_id}", precheck_result="Ok")
    counts = CycleCounts(quotes_ok=6, signals_hold=6, orders_placed=2)
    store.finish_cycle(cycle_id, finished_at=now + timedelta(milliseconds=250), status="ok", counts=counts)


def measure(path: Path, repeat_reads: int, repeat_writes: int) -> dict[str, Any]:
    """Median milliseconds of history(50), daily_summary() and one cycle's writes on the DB at `path`."""
    from bot.store import Store

    store = Store(f"sqlite:///{path}")
    store.migrate()
    try:
        first_ms = timed(lambda: store.history(50))[0] * 1000
        history = [timed(lambda: store.history(50))[0] for _ in range(repeat_reads)]
        store.daily_summary()
        daily = [timed(store.daily_summary)[0] for _ in range(repeat_reads)]
        days = len(store.daily_summary())
        with store.engine.connect() as conn:
            top = {t: conn.exec_driver_sql(f"SELECT COALESCE(MAX(id), 0) FROM {t}").scalar() for t in TABLES}
        now = LAST + timedelta(minutes=1)
        writes = []
        cpu = time.process_time()
        try:
            for i in range(repeat_writes):
                writes.append(timed(lambda i=i: one_cycle_of_writes(store, now + timedelta(seconds=i)))[0])
            cpu = time.process_time() - cpu
        finally:
            with store.engine.begin() as conn:  # leave the DB as it was built
                for table in TABLES:
                    conn.exec_driver_sql(f"DELETE FROM {table} WHERE id > {int(top[table])}")
            with store.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        store.dispose()
    ms = 1000
    return {
        "history": median(history) * ms,
        "history_first": first_ms,
        "daily": median(daily) * ms,
        "days": days,
        "write": median(writes) * ms,
        "write_cpu": cpu / repeat_writes * ms,
    }


TABLES = ("orders", "signals", "cycles")  # children first, for the clean-up


def run(quick: bool) -> list[Row]:
    reads, writes = (5, 50) if quick else (25, 200)
    big_path = cached_big_db()
    with temp_dir("db") as tmp:
        small_path = tmp / "small.db"
        build(small_path, SMALL)
        log(f"5: timing reads ({reads}x) and one cycle's writes ({writes}x) on {BIG:,} and {SMALL:,} cycles")
        small = measure(small_path, reads, writes)
    big = measure(big_path, reads, writes)
    base = f"{SMALL:,} cycles:"
    return [
        row(
            5,
            f"history(50) on {BIG:,} cycles",
            big["history"],
            "ms",
            goal=GOAL_READ,
            baseline=f"{base} {small['history']:.2f} ms",
            note=f"median of {reads}; the first call (opens the connection) {big['history_first']:.1f} ms",
            digits=2,
        ),
        row(
            5,
            f"daily_summary() on {BIG:,} cycles",
            big["daily"],
            "ms",
            goal=GOAL_READ,
            baseline=f"{base} {small['daily']:.2f} ms",
            note=f"median of {reads}; 14-day window = {big['days']} days, ~{BIG // 1096:,} cycles/day",
            digits=2,
        ),
        row(
            5,
            f"one cycle's writes on {BIG:,} cycles",
            big["write"],
            "ms",
            goal=GOAL_WRITE,
            baseline=f"{base} {small['write']:.2f} ms",
            note=(
                f"median of {writes}: start_cycle + add_signals(6) + add_order x2 + update_order x2 + "
                f"finish_cycle, 7 transactions, WAL, synchronous=NORMAL; CPU {big['write_cpu']:.2f} ms per cycle"
            ),
            digits=2,
        ),
    ]
