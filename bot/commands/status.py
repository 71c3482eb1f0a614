"""`python main.py status [--json]`: what the money does now, read from Saxo and the metrics DB; no trading.

Account value, cash, today's P&L (against the day's baseline the cycle stores), open positions with P&L, working
orders (stops and take-profits included), the last cycle and the next one, the kill switch and dry run. Saxo errors
go up to `main.py` (exit 3 for authentication, 1 otherwise); a metrics DB or job store that cannot be read only
leaves its fields empty, with a note. In local mode it reads the paper account that the embedded simulator keeps
in its state file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from loguru import logger

from bot.cycle.steps import trading_day
from bot.domain.holdings import AccountValue, HeldPosition, WorkingOrder
from bot.errors import BotError
from bot.wiring import CYCLE_JOB_ID, build_context

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.store.records import CycleView
    from bot.wiring import Context


@dataclass
class Status:
    as_of: datetime
    environment: str
    account_id: str
    value: AccountValue
    positions: list[HeldPosition]
    orders: list[WorkingOrder]
    symbols: dict[str, str]  # instrument id -> watchlist symbol
    trading_day: str
    day_baseline: Decimal | None = None
    last_cycle: CycleView | None = None
    next_cycle_at: datetime | None = None
    next_cycle_source: str | None = None  # "job store" or "estimate" (last cycle + interval)
    kill_switch: bool = False
    kill_switch_file: str = ""
    dry_run: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def today_pnl(self) -> Decimal | None:
        return None if self.day_baseline is None else self.value.total_value - self.day_baseline

    @property
    def today_pnl_pct(self) -> Decimal | None:
        if self.today_pnl is None or not self.day_baseline:
            return None
        return (self.today_pnl / self.day_baseline * 100).quantize(Decimal("0.01")) + 0  # + 0: no "-0.00"


def run_status(settings: Settings, *, as_json: bool = False) -> int:
    from bot.commands.status_format import render_status, status_json

    ctx = build_context(settings)
    try:
        status = gather(ctx)
    finally:
        ctx.close()
    print(status_json(status) if as_json else render_status(status), flush=True)
    return 0


def gather(ctx: Context) -> Status:
    """Read everything `status` shows. Saxo errors propagate; DB and job store problems become notes."""
    settings, account = ctx.settings, ctx.account
    now = ctx.clock.now()
    status = Status(
        as_of=now,
        environment=ctx.environment,
        account_id=account.account_id or account.account_key,
        value=ctx.saxo.account_value(account.account_key, account.client_key),
        positions=ctx.saxo.held_positions(),
        orders=ctx.saxo.working_orders(),
        symbols={item.id: item.symbol for item in settings.items},
        trading_day=trading_day(now, settings.timezone),
        kill_switch=settings.kill_switch_file.exists(),
        kill_switch_file=str(settings.kill_switch_file),
        dry_run=settings.dry_run,
    )
    try:
        status.day_baseline = ctx.store.day_baseline(status.trading_day)
        cycles = ctx.store.history(1)
        status.last_cycle = cycles[0] if cycles else None
    except BotError as exc:
        status.notes.append(f"metrics DB not readable: {exc}")
    if status.day_baseline is None:
        status.notes.append(f"no baseline for {status.trading_day} yet: today's P&L starts with the day's first cycle")
    scheduled = next_run_from_jobstore(settings.jobstore_url, settings.jobstore_table)
    if scheduled is not None:
        status.next_cycle_at, status.next_cycle_source = scheduled, "job store"
        if scheduled < now - timedelta(seconds=max(5.0, settings.cycle_interval_seconds)):
            status.notes.append("the job store's next run is in the past: is the scheduler running?")
    elif status.last_cycle is not None and settings.trading_hours_mode != "fixed":
        last = datetime.fromisoformat(status.last_cycle.started_at.replace("Z", "+00:00"))
        status.next_cycle_at = last + timedelta(seconds=settings.cycle_interval_seconds)
        status.next_cycle_source = "estimate"
    return status


def next_run_from_jobstore(url: str, table: str, job_id: str = CYCLE_JOB_ID) -> datetime | None:
    """The cycle job's next run as APScheduler stored it; None when there is no job store, job or run."""
    from sqlalchemy import MetaData, Table, create_engine, select
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and (not parsed.database or not Path(parsed.database).is_file()):
        return None  # never create a job store file by looking
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            jobs = Table(table, MetaData(), autoload_with=conn)
            stamp = conn.execute(select(jobs.c.next_run_time).where(jobs.c.id == job_id)).scalar()
    except SQLAlchemyError as exc:
        logger.debug("job store not readable: {}", exc)
        return None
    finally:
        engine.dispose()
    return None if stamp is None else datetime.fromtimestamp(float(stamp), UTC)
