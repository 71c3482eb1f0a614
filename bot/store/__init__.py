"""The metrics database: schema (models + Alembic), the `Store` API and history rendering.

    Store(url)                  one engine per process, no module-level engine or session
      migrate()                 alembic upgrade head
      start_cycle / finish_cycle / add_signals / add_order / update_order     the cycle's writes
      signal_already_acted / orders_needing_reconciliation                             idempotency
      day_baseline / set_day_baseline / add_event / mark_interrupted_cycles
      history / cycle_detail / daily_summary                                           reads
      orders_without_fill / record_fill / record_not_filled / update_realized_pnl      fills and P&L (pnl.py)
      realized_pnl_total / daily_pnl                                                   /metrics, history --days
      add_backtest / backtests                   the `backtests` table (backtest runs, history --backtests)
      dispose

    retention.prune(store, before)   DB_RETENTION_DAYS: old cycles (with signals) and events, in short batches
    live.read_live_history(store, since, until)   `report`: account values, prices per cycle, every fill (read-only)

Every database failure is raised as `bot.errors.StoreError`. Every string written passes `bot.log.redact`
(an engine hook in engine.py), and a SQLite file is created owner-only (0600).
"""

from bot.store.records import (
    CycleCounts,
    CycleView,
    DaySummary,
    OrderRecord,
    OrderView,
    SignalRecord,
    SignalView,
)
from bot.store.store import Store

__all__ = [
    "CycleCounts",
    "CycleView",
    "DaySummary",
    "OrderRecord",
    "OrderView",
    "SignalRecord",
    "SignalView",
    "Store",
]
