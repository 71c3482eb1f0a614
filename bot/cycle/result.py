"""What a cycle did: `CycleResult`, and the error that ends a cycle as `error`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from bot.domain import CycleStatus, Decision
from bot.errors import BotError
from bot.execution.executor import ExecutionReport
from bot.risk import Blocked

if TYPE_CHECKING:
    from bot.store import CycleCounts


@dataclass
class CycleResult:
    """What a cycle did, for the human summary, the metrics and `--single-cycle`'s exit code."""

    cycle_id: int | None
    status: CycleStatus
    started_at: datetime
    skip_reason: str | None = None
    error: str | None = None
    decisions: dict[str, Decision] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    no_order: dict[str, str] = field(default_factory=dict)  # a BUY/SELL that changed nothing, and why
    blocked: list[Blocked] = field(default_factory=list)
    execution: ExecutionReport = field(default_factory=ExecutionReport)
    total_value: Decimal | None = None  # the account value, with cash and unrealised P&L, from the cycle's balance
    cash: Decimal | None = None
    unrealized_pnl: Decimal | None = None
    open_positions: int | None = None  # instruments with a non-zero net position (None: positions not read)
    duration_ms: int = 0
    quotes_ok: int = 0


@dataclass(frozen=True)
class CycleSummary:
    """A finished cycle's row as `Store.finish_cycle` takes it; kept in `Context.unrecorded` when the DB refused it."""

    cycle_id: int
    finished_at: datetime
    status: CycleStatus
    counts: CycleCounts
    skip_reason: str | None
    error: str | None
    total_value: Decimal | None
    trading_day: str
    cash: Decimal | None = None
    unrealized_pnl: Decimal | None = None


class CycleError(BotError):
    """A phase failed; the cycle is recorded `error` with this reason."""
