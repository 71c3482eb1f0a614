"""What a cycle did: `CycleResult`, and the error that ends a cycle as `error`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from bot.domain import Decision
from bot.errors import BotError
from bot.execution.executor import ExecutionReport
from bot.risk import Blocked


@dataclass
class CycleResult:
    """What a cycle did, for the human summary, the metrics and `--single-cycle`'s exit code."""

    cycle_id: int | None
    status: str
    started_at: datetime
    skip_reason: str | None = None
    error: str | None = None
    decisions: dict[str, Decision] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    no_order: dict[str, str] = field(default_factory=dict)  # a BUY/SELL that changed nothing, and why
    blocked: list[Blocked] = field(default_factory=list)
    execution: ExecutionReport = field(default_factory=ExecutionReport)
    total_value: Decimal | None = None
    duration_ms: int = 0
    quotes_ok: int = 0


UNRECORDED = "unrecorded_cycle_summaries"  # ctx.extras key: summaries the DB refused, written next cycle


class CycleError(BotError):
    """A phase failed; the cycle is recorded `error` with this reason."""
