"""The live account as a report (`python main.py report`): the same `ReportData` a backtest fills, from the metrics DB.

Equity is the account value each cycle recorded. Trades are paired from the bot's fills per instrument, the way
Saxo nets a position: an opening fill starts a trade (long for a BUY, short for a SELL), a fill the same way adds
to it (average entry price), an opposite fill closes it (a partial close is its own closed trade; a reversal
closes the trade and opens the rest as a new one). A trade still open is valued at the instrument's last
recorded price. P&L is in the instrument's price currency (as fills are), the equity in the account's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bot.backtest.metrics import compute_metrics
from bot.backtest.result import Trade
from bot.report.html import ReportData
from bot.store.live import LiveFill, LiveHistory

MIN_CAGR_SPAN = timedelta(days=7)  # under a week of history the CAGR is shown as "-" (the default window is 30 days)


@dataclass
class _Open:
    side: str  # long | short
    amount: Decimal
    entry_time: datetime
    entry_price: Decimal


def pair_trades(fills: Sequence[LiveFill], last_prices: dict[str, float]) -> list[Trade]:
    """Closed and open trades from fills in the order they happened (an open one valued at its last price)."""
    trades: list[Trade] = []
    held: dict[str, _Open] = {}
    for fill in fills:
        if fill.amount <= 0:
            continue
        side = "long" if fill.side == "BUY" else "short"
        current = held.get(fill.instrument_id)
        if current is None or current.side == side:
            if current is None:
                held[fill.instrument_id] = _Open(side, fill.amount, fill.at, fill.price)
            else:
                total = current.amount + fill.amount
                current.entry_price = (current.amount * current.entry_price + fill.amount * fill.price) / total
                current.amount = total
            continue
        closed = min(fill.amount, current.amount)
        direction = 1 if current.side == "long" else -1
        pnl = float(closed * (fill.price - current.entry_price) * direction)
        trades.append(_trade(fill.instrument_id, current, closed, fill.at, fill.price, pnl))
        current.amount -= closed
        rest = fill.amount - closed
        if current.amount == 0:
            del held[fill.instrument_id]
        if rest > 0:  # a reversal: the rest opens the other way at this fill's price
            held[fill.instrument_id] = _Open(side, rest, fill.at, fill.price)
    for iid, current in held.items():
        last = last_prices.get(iid, float(current.entry_price))
        direction = 1 if current.side == "long" else -1
        pnl = float(current.amount) * (last - float(current.entry_price)) * direction
        trades.append(_trade(iid, current, current.amount, None, Decimal(str(last)), pnl))
    return sorted(trades, key=lambda t: (t.entry_time, t.exit_time or datetime.max.replace(tzinfo=t.entry_time.tzinfo)))


def _trade(
    iid: str, current: _Open, amount: Decimal, exit_time: datetime | None, exit_price: Decimal, pnl: float
) -> Trade:
    return Trade(
        iid, current.side, amount, current.entry_time, float(current.entry_price), exit_time, float(exit_price), pnl
    )


def from_live(history: LiveHistory, since: datetime, days: int) -> ReportData:
    """The window's equity, prices and trades (a trade shows when it was open at any time in the window)."""
    times = [at for at, _ in history.equity]
    values = [float(value) for _, value in history.equity]
    last_prices = {iid: series[-1][1] for iid, series in history.prices.items() if series}
    trades = [t for t in pair_trades(history.fills, last_prices) if t.exit_time is None or t.exit_time >= since]
    exposed = sum(1 for at in times if any(_open_at(t, at) for t in trades))
    metrics = compute_metrics(values[0], times, values, trades, exposed).to_dict() if values else {}
    if times and times[-1] - times[0] < MIN_CAGR_SPAN:
        metrics["cagr_pct"] = None  # a few hours' return compounded to a year reads as trillions of percent
    prices = {iid: ([at for at, _ in series], [p for _, p in series]) for iid, series in history.prices.items()}
    span = f"{_moment(times[0]) if times else '-'} to {_moment(times[-1]) if times else '-'}"
    return ReportData(
        title="Live account",
        subtitle=f"last {days} day{'s' if days != 1 else ''}: {span}, {len(times):,} cycles; "
        "trade P&L in each instrument's price currency",
        equity_times=times,
        equity_values=values,
        trades=trades,
        prices=prices,
        metrics=metrics,
        labels=dict(history.symbols),
        price_name="price per cycle",
    )


def _open_at(trade: Trade, moment: datetime) -> bool:
    return trade.entry_time <= moment and (trade.exit_time is None or moment < trade.exit_time)


def _moment(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
