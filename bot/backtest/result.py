"""What a backtest produces: trades, metrics, the equity curve, and their JSON form (DESIGN §6d).

`to_json` prints exactly the contract's keys. Times are UTC ISO-8601 (`2024-01-02T14:30:00Z`), amounts and money
are JSON numbers; a metric that is undefined for the run (a Sharpe ratio of fewer than two days, a profit factor
without a losing trade) is `null`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from bot.domain import OrderIntent, Side


def iso(moment: datetime | None) -> str | None:
    """`2024-01-02T14:30:00Z` (bar times are UTC already; seconds are enough for bars)."""
    return None if moment is None else moment.isoformat(timespec="seconds")[:19] + "Z"


def iso_series(times: list[datetime]) -> list[str]:
    """`iso` of many bar times, the date formatted once per day (the equity curve has one per bar)."""
    out: list[str] = []
    add, day, prefix = out.append, -1, ""
    for moment in times:
        ordinal = moment.toordinal()
        if ordinal != day:
            day, prefix = ordinal, moment.strftime("%Y-%m-%dT")
        add(f"{prefix}{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}Z")
    return out


def number(amount: Decimal) -> int | float:
    """A Decimal amount as a JSON number: an int when whole."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


@dataclass(frozen=True, slots=True)
class Fill:
    """One simulated execution: the order decided on the bar of `decided_at` filled at `time` (the next bar's open)."""

    instrument_id: str
    side: Side
    amount: Decimal
    decided_at: datetime  # start of the signal bar
    time: datetime  # start of the bar whose open filled it
    price: float  # the open, with half the spread
    commission: float


@dataclass(frozen=True, slots=True)
class Trade:
    """A position from open to close; `exit_time` is None while open (then `exit_price` is the last close)."""

    instrument_id: str
    side: str  # "long" | "short"
    amount: Decimal
    entry_time: datetime
    entry_price: float
    exit_time: datetime | None
    exit_price: float
    pnl: float  # after commissions (and the spread, which is in the prices)

    @property
    def is_open(self) -> bool:
        return self.exit_time is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "instrument_id": self.instrument_id,
            "side": self.side,
            "amount": number(self.amount),
            "entry_time": iso(self.entry_time),
            "entry_price": self.entry_price,
            "exit_time": iso(self.exit_time),
            "exit_price": self.exit_price,
            "pnl": round(self.pnl, 8),
        }


@dataclass(frozen=True, slots=True)
class Metrics:
    """Figures of one run. `max_drawdown_pct` is the deepest fall from a peak, as a negative percentage (or 0).

    `trades` counts every trade in the list (closed and still open); `win_rate_pct` and `profit_factor` are over
    closed trades; `exposure_pct` is the share of bars with any position open; `sharpe` and `sortino` are from
    daily (UTC) returns of the equity, annualised with 365 days when the data has weekend bars, else 252.
    """

    start_value: float
    end_value: float
    total_return_pct: float
    cagr_pct: float | None
    max_drawdown_pct: float
    sharpe: float | None
    sortino: float | None
    trades: int
    win_rate_pct: float | None
    profit_factor: float | None
    exposure_pct: float

    def to_dict(self) -> dict[str, Any]:
        return {name: _rounded(getattr(self, name)) for name in self.__slots__}


def _rounded(value: float | int | None) -> float | int | None:
    return round(value, 6) if isinstance(value, float) else value


@dataclass
class BacktestResult:
    """Everything one run produced. `equity_times[i]` is a bar start, `equity_values[i]` the value at its close."""

    strategy: str
    params: dict[str, Any]
    start: datetime | None  # first bar traded
    end: datetime | None  # last bar traded
    bars: int  # bars stepped through (all instruments), warm-up not counted
    metrics: Metrics
    trades: list[Trade]
    equity_times: list[datetime]
    equity_values: list[float]
    fills: list[Fill] = field(default_factory=list)
    unfilled: list[OrderIntent] = field(default_factory=list)  # decided on the last bar: no next open to fill at
    signals: int = 0  # BUY/SELL decisions
    blocked: int = 0  # orders the risk limits blocked
    blocked_by: dict[str, int] = field(default_factory=dict)  # the same, by RiskRule
    strategy_errors: int = 0  # decide() raised (that instrument's bar is skipped, as live)
    first_error: str | None = None
    protection_note: str | None = None  # stop-loss / take-profit exits, and bars that reached both (stop first)

    def activity(self) -> list[str]:
        """What happened besides the trades, as the summary and the report say it: signals, fills, orders the risk
        limits blocked (by rule: the setting to look at), stop/take-profit exits, strategy errors."""
        blocked = ", ".join(
            f"{rule} {n}" for rule, n in sorted(self.blocked_by.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        lines = [
            f"signals {self.signals}, fills {len(self.fills)}, blocked by risk limits {self.blocked}"
            + (f" ({blocked})" if blocked else "")
            + f", decided on the last bar (not filled) {len(self.unfilled)}"
        ]
        if self.protection_note:
            lines.append(self.protection_note)
        if self.strategy_errors:
            lines.append(f"strategy errors {self.strategy_errors} (first: {self.first_error})")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """The `--json` object of DESIGN §6d, exactly its keys."""
        return {
            "strategy": self.strategy,
            "params": self.params,
            "from": iso(self.start),
            "to": iso(self.end),
            "bars": self.bars,
            "metrics": self.metrics.to_dict(),
            "trades": [trade.to_dict() for trade in self.trades],
            "equity": [
                [t, round(v, 6)] for t, v in zip(iso_series(self.equity_times), self.equity_values, strict=True)
            ],
        }


def to_json(result: BacktestResult) -> str:
    return json.dumps(result.to_dict(), default=_default)


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
