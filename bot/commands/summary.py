"""The short human summary printed after `--single-cycle`."""

from __future__ import annotations

from bot.cycle import CycleResult
from bot.domain import CycleStatus, OrderStatus
from bot.store.engine import safe_url
from bot.wiring import Context


def render(ctx: Context, result: CycleResult) -> str:
    s = ctx.settings
    mode = "dry run" if s.dry_run else "LIVE ORDERS" if s.is_live else "orders on"
    lines = [
        f"Cycle {result.cycle_id if result.cycle_id is not None else '-'}: {result.status.upper()} "
        f"in {result.duration_ms} ms  ({ctx.environment}, {mode}, account {ctx.account.account_id or '?'})"
    ]
    if result.skip_reason:
        lines.append(f"  reason: {result.skip_reason}")
    if result.error:
        lines.append(f"  error:  {result.error}")
    symbols = {item.id: item.symbol for item in s.items}
    if result.decisions or result.skipped:
        lines.append("")
        lines.append(f"  {'instrument':<34}{'signal':<7}{'price':>14}  reason")
        for item in s.items:
            decision = result.decisions.get(item.id)
            if decision is not None:
                price = f"{decision.price:.6g}" if decision.price is not None else "-"
                note = result.no_order.get(item.id) or result.skipped.get(item.id)
                reason = f"{note} ({decision.reason})" if note else decision.reason
                lines.append(
                    f"  {item.symbol + ' (' + item.id + ')':<34}{decision.signal.value:<7}{price:>14}  {reason[:90]}"
                )
            elif item.id in result.skipped:
                lines.append(
                    f"  {item.symbol + ' (' + item.id + ')':<34}{'SKIP':<7}{'-':>14}  {result.skipped[item.id][:70]}"
                )
    orders = result.execution.results
    if orders or result.blocked:
        lines.append("")
        lines.append("  orders:")
        for r in orders:
            detail = r.order_id or r.error_code or ""
            cost = f" cost {r.estimated_cost}" if r.estimated_cost is not None else ""
            lines.append(
                f"    {r.intent.side.value:<4} {r.intent.amount:>12} {symbols.get(r.intent.instrument_id, '')}"
                f"  {r.status:<10} {detail}{cost}"
            )
        for b in result.blocked:
            lines.append(
                f"    {b.intent.side.value:<4} {b.intent.amount:>12} {b.intent.item.symbol}  "
                f"{OrderStatus.BLOCKED:<10} {b.reason}"
            )
    elif result.status in (CycleStatus.OK, CycleStatus.HALTED):
        lines.append("  no orders this cycle (no BUY/SELL signal acted on)")
    lines.append("")
    lines.append(f"  metrics DB: {safe_url(s.database_url)}   history: python main.py history")
    return "\n".join(lines)
