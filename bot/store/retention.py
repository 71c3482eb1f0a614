"""Metrics DB retention (DB_RETENTION_DAYS): old `cycles` with their `signals`, and old `events`, are deleted.

`orders` rows are never deleted, and a cycle that any order row references is kept whole (with its signals):
an order keeps the cycle that explains it. `running` cycles are left to start-up's interrupted-cycle check.

Deleting happens in batches, each its own short transaction, with a pause between them: on SQLite the
cycle's writes get the database between two batches instead of waiting behind one long delete. Batches walk
the primary key up to the newest prunable id (found once through the started_at index), so every row is
visited once and the scan never reaches the recent part of the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from loguru import logger
from sqlalchemy import Select, delete, exists, func, select

from bot.domain.statuses import CycleStatus
from bot.errors import StopRequested, StoreError
from bot.store.engine import translate_errors
from bot.store.models import cycles, events, orders, signals
from bot.store.records import iso
from bot.store.store import Store

BATCH_CYCLES = 500  # about 3,500 rows with the default watchlist's signals: a few ms per transaction
BATCH_EVENTS = 2000
PAUSE_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class Pruned:
    """What one pruning pass deleted."""

    cycles: int = 0
    signals: int = 0
    events: int = 0
    batches: int = 0

    def __str__(self) -> str:
        return f"{self.cycles} cycles, {self.signals} signals, {self.events} events in {self.batches} batches"


def prune(
    store: Store,
    before: datetime,
    *,
    batch_size: int | None = None,
    pause: float = PAUSE_SECONDS,
    sleep: Callable[[float], None] | None = None,
) -> Pruned:
    """Delete events before `before`, then cycles started before it that no order references (their signals
    first). `sleep(pause)` runs between batches (a stop-aware clock's sleep ends a pass early by
    raising). Raises StoreError; what was deleted by then stays deleted (each batch is committed)."""
    cutoff = iso(before)
    batch_size = batch_size or BATCH_CYCLES
    engine, url = store.engine, store.engine.url
    done = {"cycles": 0, "signals": 0, "events": 0, "batches": 0}

    def between_batches() -> None:
        if sleep is not None and pause > 0:
            sleep(pause)

    while True:  # events first: fewer rows left for the foreign-key check of each deleted cycle
        with translate_errors(url, "prune old events"), engine.begin() as conn:
            oldest = select(events.c.id).where(events.c.at < cutoff).order_by(events.c.at).limit(BATCH_EVENTS)
            count = int(conn.execute(delete(events).where(events.c.id.in_(oldest))).rowcount or 0)
        if not count:
            break
        done["events"] += count
        done["batches"] += 1
        between_batches()
    with translate_errors(url, "find cycles to prune"), engine.connect() as conn:
        upper = conn.execute(select(func.max(cycles.c.id)).where(cycles.c.started_at < cutoff)).scalar()
    last = 0
    while upper is not None and last < upper:
        with translate_errors(url, "prune old cycles"), engine.begin() as conn:
            ids = list(conn.execute(_prunable(last, upper, cutoff, batch_size)).scalars())
            if not ids:
                break
            done["signals"] += int(conn.execute(delete(signals).where(signals.c.cycle_id.in_(ids))).rowcount or 0)
            done["cycles"] += int(conn.execute(delete(cycles).where(cycles.c.id.in_(ids))).rowcount or 0)
        done["batches"] += 1
        if len(ids) < batch_size:
            break
        last = ids[-1]
        between_batches()
    return Pruned(**done)


def prune_expired(store: Store, days: int, now: datetime, sleep: Callable[[float], None]) -> str:
    """One retention pass (DB_RETENTION_DAYS=`days`, 0 = off), for the daily job and after a `--single-cycle`.
    Never raises: a DB failure is logged and the next pass tries again; a stop request ends it between batches
    (each batch is committed, so nothing is half done). Returns what was done, for the log."""
    if days <= 0:
        return "off"
    try:
        pruned = prune(store, now - timedelta(days=days), sleep=sleep)
    except StopRequested:
        logger.info("metrics DB retention: stopped between batches; the next run goes on")
        return "stopped"
    except StoreError as exc:
        logger.error("metrics DB retention failed (next run tries again): {}", exc)
        return "error"
    if pruned.batches:
        logger.info("metrics DB retention ({} days): deleted {}", days, pruned)
    return str(pruned)


def _prunable(after_id: int, upper: int, cutoff: str | None, limit: int) -> Select[Any]:
    has_orders = exists().where(orders.c.cycle_id == cycles.c.id)
    return (
        select(cycles.c.id)
        .where(
            cycles.c.id > after_id,
            cycles.c.id <= upper,
            cycles.c.started_at < cutoff,
            cycles.c.status != CycleStatus.RUNNING.value,
            ~has_orders,
        )
        .order_by(cycles.c.id)
        .limit(max(1, limit))
    )
