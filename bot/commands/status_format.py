"""Pure rendering of `status`: a readable text report and its JSON (numbers as strings, times ISO-8601 UTC)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bot.commands.history_format import NONE, short_time, table, truncate
from bot.commands.status import Status


def _num(value: Decimal | None) -> str:
    return NONE if value is None else format(value, "f")


def _signed(value: Decimal | None) -> str:
    return NONE if value is None else ("+" if value > 0 else "") + format(value, "f")


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def render_status(status: Status) -> str:
    value = status.value
    currency = f" {value.currency}" if value.currency else ""
    pct = f" ({_signed(status.today_pnl_pct)} %)" if status.today_pnl_pct is not None else ""
    lines = [
        f"saxo-bot status  {status.environment}  account {status.account_id}  "
        f"as of {short_time(_iso(status.as_of))} UTC",
        f"account value   {_num(value.total_value)}{currency}",
        f"cash            {_num(value.cash)}{currency}  (available for trading {_num(value.cash_available)})",
        f"today's P&L     {_signed(status.today_pnl)}{currency}{pct}  "
        f"since {_num(status.day_baseline)} at the start of {status.trading_day}",
        f"unrealised P&L  {_signed(value.unrealized_pnl)}{currency}",
        f"dry run         {'yes (precheck only)' if status.dry_run else 'no (placing orders)'}",
        f"kill switch     {'ON: ' + status.kill_switch_file + ' exists' if status.kill_switch else 'off'}",
        "",
    ]
    lines.extend(_positions(status))
    lines.append("")
    lines.extend(_orders(status))
    lines.append("")
    lines.extend(_cycles(status))
    lines.extend(f"note: {note}" for note in status.notes)
    return "\n".join(lines)


def _positions(status: Status) -> list[str]:
    if not status.positions:
        return ["positions: none open"]
    rows = [
        [
            status.symbols.get(p.instrument_id, ""),
            p.instrument_id,
            _num(p.amount),
            _num(p.open_price),
            _num(p.current_price),
            _signed(p.pnl),
            _signed(p.pnl_base),
        ]
        for p in status.positions
    ]
    headers = ["symbol", "instrument", "amount", "open", "current", "P&L", f"P&L {status.value.currency}".rstrip()]
    return [f"positions ({len(rows)})", table(headers, rows, right={2, 3, 4, 5, 6})]


def _orders(status: Status) -> list[str]:
    if not status.orders:
        return ["working orders: none"]
    rows = [
        [
            o.order_id,
            status.symbols.get(o.instrument_id, ""),
            o.instrument_id,
            o.side.value,
            _num(o.amount),
            o.order_type,
            o.role + (f" of {o.parent_order_id}" if o.parent_order_id else ""),
            _num(o.price),
            o.duration,
            o.status,
        ]
        for o in status.orders
    ]
    headers = ["order", "symbol", "instrument", "side", "amount", "type", "role", "price", "duration", "status"]
    return [f"working orders ({len(rows)})", table(headers, rows, right={4, 7})]


def _cycles(status: Status) -> list[str]:
    last = status.last_cycle
    if last is None:
        lines = ["last cycle      none recorded"]
    else:
        note = truncate(last.error or last.skip_reason, 60)
        lines = [
            f"last cycle      #{last.id} {short_time(last.started_at)} UTC  {last.status}  "
            f"placed {last.orders_placed}, rejected {last.orders_rejected}, failed {last.orders_failed}"
            + (f"  ({note})" if note else "")
        ]
    if status.next_cycle_at is None:
        lines.append("next cycle      unknown (no scheduler job found)")
    else:
        lines.append(f"next cycle      {short_time(_iso(status.next_cycle_at))} UTC ({status.next_cycle_source})")
    return lines


def status_dict(status: Status) -> dict[str, Any]:
    value = status.value
    last = status.last_cycle
    return {
        "as_of": _iso(status.as_of),
        "environment": status.environment,
        "account_id": status.account_id,
        "currency": value.currency,
        "total_value": _str(value.total_value),
        "cash": _str(value.cash),
        "cash_available": _str(value.cash_available),
        "unrealized_pnl": _str(value.unrealized_pnl),
        "today": {
            "trading_day": status.trading_day,
            "baseline": _str(status.day_baseline),
            "pnl": _str(status.today_pnl),
            "pnl_pct": _str(status.today_pnl_pct),
        },
        "positions": [
            {
                "instrument_id": p.instrument_id,
                "symbol": status.symbols.get(p.instrument_id),
                "amount": _str(p.amount),
                "open_price": _str(p.open_price),
                "current_price": _str(p.current_price),
                "pnl": _str(p.pnl),
                "pnl_account_currency": _str(p.pnl_base),
            }
            for p in status.positions
        ],
        "orders": [
            {
                "order_id": o.order_id,
                "instrument_id": o.instrument_id,
                "symbol": status.symbols.get(o.instrument_id),
                "side": o.side.value,
                "amount": _str(o.amount),
                "order_type": o.order_type,
                "role": o.role,
                "price": _str(o.price),
                "status": o.status,
                "relation": o.relation,
                "duration": o.duration,
                "parent_order_id": o.parent_order_id,
                "related_position_id": o.related_position_id,
                "placed_at": _iso(o.placed_at),
                "external_reference": o.external_reference,
            }
            for o in status.orders
        ],
        "last_cycle": None
        if last is None
        else {
            "id": last.id,
            "started_at": last.started_at,
            "status": last.status,
            "skip_reason": last.skip_reason,
            "error": last.error,
            "orders_placed": last.orders_placed,
        },
        "next_cycle": None
        if status.next_cycle_at is None
        else {"at": _iso(status.next_cycle_at), "source": status.next_cycle_source},
        "kill_switch": status.kill_switch,
        "dry_run": status.dry_run,
        "notes": status.notes,
    }


def status_json(status: Status) -> str:
    return json.dumps(status_dict(status), indent=2, ensure_ascii=False)


def _str(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
