"""Pure rendering of what the store reads back: fixed-width text tables and JSON (for `main.py history`).

render_history(cycles)                    one line per cycle, newest first as given
render_cycle_detail(cycle, sigs, orders)  the cycle, then its signals table, then its orders table
render_daily_summary(days)                one line per UTC day
render_daily_pnl(days)                    one line per trading day: baseline, last account value, P&L, realised
to_json(value)                            views (or lists / a detail tuple of them) as JSON text
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bot.store.pnl import DayPnl
from bot.store.records import CycleView, DaySummary, OrderView, SignalView

ERROR_WIDTH = 60
NONE = "-"


def render_history(cycles: Sequence[CycleView], *, error_width: int = ERROR_WIDTH) -> str:
    if not cycles:
        return "no cycles recorded yet"
    headers = [
        "id",
        "started (UTC)",
        "status",
        "mode",
        "duration",
        "B/S/H",
        "plc/rej/fail/blk",
        "account value",
        "unreal. P&L",
        "note",
    ]
    rows = [
        [
            str(c.id),
            short_time(c.started_at),
            c.status,
            "dry" if c.dry_run else "orders",
            duration(c.duration_ms),
            f"{c.signals_buy}/{c.signals_sell}/{c.signals_hold}",
            f"{c.orders_placed}/{c.orders_rejected}/{c.orders_failed}/{c.orders_blocked}",
            money(c.total_value),
            signed(c.unrealized_pnl),
            truncate(c.error or c.skip_reason, error_width),
        ]
        for c in cycles
    ]
    return table(headers, rows, right={0, 4, 5, 6, 7, 8})


def render_cycle_detail(cycle: CycleView, signals: Sequence[SignalView], orders: Sequence[OrderView]) -> str:
    finished = short_time(cycle.finished_at)[11:] if cycle.finished_at else "..."
    lines = [
        f"cycle {cycle.id}  {short_time(cycle.started_at)} -> {finished}  {cycle.status}  "
        f"{duration(cycle.duration_ms)}  {mode(cycle.dry_run)}  "
        f"hours={cycle.hours_mode or NONE}  instruments={cycle.instruments}  quotes ok={cycle.quotes_ok}",
        f"signals B/S/H {cycle.signals_buy}/{cycle.signals_sell}/{cycle.signals_hold}  "
        f"orders placed={cycle.orders_placed} prechecked={cycle.orders_prechecked} "
        f"rejected={cycle.orders_rejected} failed={cycle.orders_failed} blocked={cycle.orders_blocked}",
    ]
    extras = [
        f"account value {money(cycle.total_value)}" if cycle.total_value is not None else "",
        f"cash {money(cycle.cash)}" if cycle.cash is not None else "",
        f"unrealised P&L {signed(cycle.unrealized_pnl)}" if cycle.unrealized_pnl is not None else "",
        f"trading day {cycle.trading_day}" if cycle.trading_day else "",
        f"host {cycle.host_pid}" if cycle.host_pid else "",
    ]
    if any(extras):
        lines.append("  ".join(e for e in extras if e))
    if cycle.skip_reason:
        lines.append(f"skipped: {cycle.skip_reason}")
    if cycle.error:
        lines.append(f"error: {cycle.error}")

    lines += ["", f"signals ({len(signals)})"]
    if signals:
        lines.append(
            table(
                ["instrument", "symbol", "signal", "price", "bar (UTC)", "reason"],
                [
                    [
                        s.instrument_id,
                        s.symbol or NONE,
                        s.signal,
                        NONE if s.price is None else f"{s.price:g}",
                        short_time(s.bar_time),
                        truncate(s.reason, ERROR_WIDTH),
                    ]
                    for s in signals
                ],
                right={3},
            )
        )
    lines += ["", f"orders ({len(orders)})"]
    if orders:
        lines.append(
            table(
                [
                    "row",
                    "instrument",
                    "side",
                    "amount",
                    "status",
                    "precheck",
                    "cost",
                    "order id",
                    "fill",
                    "realised P&L",
                    "reference",
                    "error",
                ],
                [
                    [
                        str(o.id),
                        o.instrument_id,
                        o.side,
                        money(o.amount),
                        o.status,
                        o.precheck_result or NONE,
                        money(o.estimated_cost),
                        o.order_id or NONE,
                        money(o.fill_price),
                        signed(o.realized_pnl),
                        o.external_reference or NONE,
                        truncate(_order_error(o), ERROR_WIDTH),
                    ]
                    for o in orders
                ],
                right={0, 3, 6, 8, 9},
            )
        )
    return "\n".join(lines)


def render_daily_summary(days: Sequence[DaySummary]) -> str:
    if not days:
        return "no cycles recorded yet"
    headers = [
        "day (UTC)",
        "cycles",
        "ok",
        "skipped",
        "halted",
        "errors",
        "placed",
        "rejected",
        "failed",
        "blocked",
    ]
    rows = [
        [
            d.day,
            d.cycles,
            d.ok,
            d.skipped,
            d.halted,
            d.errors,
            d.orders_placed,
            d.orders_rejected,
            d.orders_failed,
            d.orders_blocked,
        ]
        for d in days
    ]
    return table(headers, [[str(v) for v in row] for row in rows], right=set(range(1, len(headers))))


def render_daily_pnl(days: Sequence[DayPnl], timezone: str = "") -> str:
    """Per trading day: the baseline (the day's first account value), the last recorded one, their difference,
    and the realised P&L of the day's closes (in the instruments' price currencies)."""
    if not days:
        return "no daily P&L yet: no cycle has read the balance"
    headers = [
        f"trading day{f' ({timezone})' if timezone else ''}",
        "baseline",
        "last value",
        "P&L",
        "P&L %",
        "realised",
    ]
    rows = [
        [
            d.day,
            money(d.baseline),
            money(d.end_value),
            signed(d.pnl),
            NONE if d.pnl is None or not d.baseline else f"{d.pnl / d.baseline * 100:+.2f}%",
            signed(d.realized_pnl),
        ]
        for d in days
    ]
    return table(headers, rows, right={1, 2, 3, 4, 5})


def to_json(value: Any, *, indent: int | None = 2) -> str:
    """JSON for views, lists or dicts of them, or a `cycle_detail` tuple ({"cycle", "signals", "orders"})."""
    return json.dumps(_plain(value), indent=indent, ensure_ascii=False)


def _plain(value: Any) -> Any:
    if isinstance(value, tuple) and len(value) == 3 and isinstance(value[0], CycleView):
        cycle, signals, orders = value
        return {"cycle": cycle.as_dict(), "signals": _plain(signals), "orders": _plain(orders)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "as_dict"):
        return value.as_dict()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def render_backtests(rows: Sequence[Any]) -> str:
    """`history --backtests`: newest first, one line per run (a `BacktestView`)."""
    headers = ["id", "recorded (UTC)", "strategy", "params", "from", "to", "bars", "return", "max DD", "trades"]
    lines = []
    for row in rows:
        metrics = json.loads(row.metrics)
        lines.append(
            [
                str(row.id) + (" (sweep)" if row.sweep else ""),
                short_time(row.recorded_at),
                row.strategy,
                truncate(row.params, 40),
                short_time(row.date_from)[:16],
                short_time(row.date_to)[:16],
                str(row.bars),
                _pct(metrics.get("total_return_pct")),
                _pct(metrics.get("max_drawdown_pct")),
                str(metrics.get("trades", NONE)),
            ]
        )
    return table(headers, lines, right={6, 7, 8, 9})


def _pct(value: Any) -> str:
    return NONE if value is None else f"{value:.2f}%"


# -- small pieces ---------------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: set[int] | None = None) -> str:
    """A fixed-width table: a header line, a rule, the rows. Columns in `right` are right-aligned."""
    right = right or set()
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


def short_time(stamp: str | None) -> str:
    """ "2026-11-24T14:30:00.123Z" -> "2026-11-24 14:30:00" (seconds are enough on screen)."""
    if not stamp:
        return NONE
    return stamp.replace("T", " ")[:19]


def mode(dry_run: bool) -> str:
    """Dry run or not. Never "live": the row does not say which Saxo (simulator, SIM or LIVE) it ran against."""
    return "dry run" if dry_run else "placing orders"


def duration(ms: int | None) -> str:
    if ms is None:
        return NONE
    return f"{ms} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def money(value: Decimal | None) -> str:
    return NONE if value is None else format(value, "f")


def signed(value: Decimal | None) -> str:
    """A P&L with its sign: "+12.5", "-3", "0"."""
    return NONE if value is None else ("+" if value > 0 else "") + format(value, "f")


def truncate(text: str | None, width: int) -> str:
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: max(0, width - 3)] + "..."


def _order_error(order: OrderView) -> str:
    if order.error_code and order.error_message:
        return f"{order.error_code}: {order.error_message}"
    return order.error_code or order.error_message or ""
