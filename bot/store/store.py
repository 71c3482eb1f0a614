"""`Store`: the metrics database behind one engine, one short transaction per call.

The cycle writes through it (start, signals, orders, finish); the CLI and health checks read from it.
Every SQLAlchemy, DBAPI or file-system failure comes out as `StoreError` naming what could not be done;
the caller decides what that means (DESIGN.md §1: log loudly, send no order whose row was not written).

This module holds the connection handling, the schema upgrade, the cycle, baseline and event writes and the
history reads; the other tables' methods come from mixins: signals and orders (`order_rows.py`), order legs
(`legs.py`), backtests (`backtests.py`), fills and P&L (`pnl.py`).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Self

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.clock import Clock, SystemClock
from bot.domain.statuses import CycleStatus
from bot.errors import StoreError
from bot.store import queries
from bot.store.backtests import BacktestStore
from bot.store.engine import (
    DEFAULT_BUSY_TIMEOUT_MS,
    make_engine,
    new_id,
    parse_url,
    safe_url,
    sqlite_file,
    translate_errors,
)
from bot.store.file_watch import FileWatch
from bot.store.legs import LegStore
from bot.store.models import cycles, day_baselines, events, to_decimal
from bot.store.order_rows import OrderStore
from bot.store.paths import project_root
from bot.store.pnl import PnlStore
from bot.store.records import (
    FINAL_CYCLE_STATUSES,
    INTERRUPTED,
    CycleCounts,
    CycleView,
    DaySummary,
    OrderView,
    SignalView,
    checked,
    iso,
    parse_iso,
    plain,
)


class Store(OrderStore, LegStore, BacktestStore, PnlStore):
    """The metrics database. Build one per process (`build_context`), `dispose()` it on shutdown."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        clock: Clock | None = None,
        bot: str | None = None,
    ) -> None:
        """`bot`: the bot's identity (JOBSTORE_TABLE) written on its order rows; the duplicate-order checks and
        reconciliation then read its own rows only (and rows from before orders said whose they were)."""
        self.bot = bot
        self._url = parse_url(url)
        self._clock = clock or SystemClock()  # only for a row whose time the caller left out
        self.engine = make_engine(self._url, echo=echo, busy_timeout_ms=busy_timeout_ms)
        self._host = socket.gethostname()
        self._file = FileWatch(sqlite_file(self._url))

    @property
    def url(self) -> str:
        """The database URL with the password hidden."""
        return safe_url(self._url)

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.dispose()

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        self._recreate_if_file_changed()
        try:
            with translate_errors(self._url, action), self.engine.begin() as conn:
                yield conn
        except StoreError:
            # Pooled connections may keep the failure (SQLite opens a read-only file read-only for good):
            # start afresh next time, so the store recovers when the problem goes away, with no restart.
            self.engine.dispose()
            raise

    @contextmanager
    def _read(self, action: str) -> Iterator[Connection]:
        self._recreate_if_file_changed()
        with translate_errors(self._url, action), self.engine.connect() as conn:
            yield conn

    # -- schema and health ------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Upgrade the schema to head (Alembic), as `alembic upgrade head` would; a no-op when already there."""
        from bot.store.schema_version import at_head

        if at_head(self.engine, project_root() / "migrations" / "versions"):
            self._file.remember()
            return
        from alembic.util.exc import CommandError

        from bot.store import migrate as migrations

        try:
            with translate_errors(self._url, "upgrade the schema to head"):
                migrations.upgrade(self.engine)
        except CommandError as exc:
            raise StoreError(f"metrics DB {self.url}: migration failed: {exc}") from exc
        self._file.remember()  # from here on, a deleted or replaced file is noticed and recreated

    def _recreate_if_file_changed(self) -> None:
        """The SQLite file was deleted or replaced while running: reconnect, recreate and migrate, no restart."""
        self._file.reopen_if_changed(self.url, self.engine.dispose, self.migrate)

    def dispose(self) -> None:
        self.engine.dispose()

    # -- cycles -----------------------------------------------------------------------------------------

    def start_cycle(self, *, started_at: datetime, dry_run: bool, hours_mode: str, instruments: int) -> int:
        """Insert a `running` cycle row and return its id."""
        values = {
            "started_at": iso(started_at),
            "status": CycleStatus.RUNNING.value,
            "dry_run": bool(dry_run),
            "hours_mode": plain(hours_mode),
            "instruments": int(instruments),
            "host_pid": f"{self._host}:{os.getpid()}",
        }
        with self._write("start a cycle") as conn:
            return new_id(conn.execute(insert(cycles).values(values)))

    def finish_cycle(
        self,
        cycle_id: int,
        *,
        finished_at: datetime,
        status: str,
        counts: CycleCounts,
        skip_reason: str | None = None,
        error: str | None = None,
        total_value: Decimal | None = None,
        trading_day: str | None = None,
        cash: Decimal | None = None,
        unrealized_pnl: Decimal | None = None,
    ) -> None:
        """Close a cycle: final status, tallies, the account's figures and `duration_ms` from its `started_at`."""
        status = checked(status, FINAL_CYCLE_STATUSES, "cycle status")
        values: dict[str, Any] = {
            "finished_at": iso(finished_at),
            "status": status,
            "skip_reason": skip_reason,
            "error": error,
            "total_value": None if total_value is None else to_decimal(total_value),
            "trading_day": trading_day,
            "cash": None if cash is None else to_decimal(cash),
            "unrealized_pnl": None if unrealized_pnl is None else to_decimal(unrealized_pnl),
            **{name: int(getattr(counts, name)) for name in counts.__dataclass_fields__},
        }
        with self._write(f"finish cycle {cycle_id}") as conn:
            started = conn.execute(select(cycles.c.started_at).where(cycles.c.id == cycle_id)).scalar()
            if started is None:
                raise StoreError(f"metrics DB {self.url}: no cycle {cycle_id} to finish")
            end = finished_at if finished_at.tzinfo else finished_at.replace(tzinfo=UTC)
            elapsed = (end - parse_iso(started)).total_seconds()
            values["duration_ms"] = max(0, round(elapsed * 1000))
            conn.execute(update(cycles).where(cycles.c.id == cycle_id).values(values))

    def mark_interrupted_cycles(self, now: datetime, *, host: str | None = None) -> int:
        """Cycles still `running` (their process died) become `error`; returns how many.

        `host` limits this to cycles started on that host (`host_pid` is "host:pid"), for several bots
        sharing one PostgreSQL database.
        """
        query = update(cycles).where(cycles.c.status == CycleStatus.RUNNING.value)
        if host is not None:
            query = query.where(cycles.c.host_pid.like(f"{host}:%"))
        query = query.values(status=CycleStatus.ERROR.value, error=INTERRUPTED, finished_at=iso(now))
        with self._write("mark interrupted cycles") as conn:
            return int(conn.execute(query).rowcount or 0)

    # -- day baselines and events -----------------------------------------------------------------------

    def day_baseline(self, trading_day: str) -> Decimal | None:
        query = select(day_baselines.c.total_value).where(day_baselines.c.trading_day == trading_day)
        with self._read(f"read the baseline of {trading_day}") as conn:
            return conn.execute(query).scalar()

    def set_day_baseline(
        self,
        trading_day: str,
        total_value: Decimal,
        currency: str,
        recorded_at: datetime,
    ) -> None:
        """Record the day's starting value unless one exists: the first writer wins.

        A value of 0 or below is never a day's start (a bad balance read) and is not recorded.
        """
        if not total_value.is_finite() or total_value <= 0:
            return
        values = {
            "trading_day": trading_day,
            "total_value": to_decimal(total_value),
            "currency": currency,
            "recorded_at": iso(recorded_at),
        }
        try:
            with self._write(f"record the baseline of {trading_day}") as conn:
                exists = select(day_baselines.c.trading_day).where(day_baselines.c.trading_day == trading_day)
                if conn.execute(exists).first() is None:
                    conn.execute(insert(day_baselines).values(values))
        except StoreError as exc:
            if not isinstance(exc.__cause__, IntegrityError):  # lost a race to another writer: fine
                raise

    def add_event(
        self,
        kind: str,
        message: str,
        *,
        at: datetime,
        cycle_id: int | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        values = {
            "at": iso(at),
            "kind": kind,
            "cycle_id": cycle_id,
            "message": message,
            "details": None if details is None else json.dumps(details, default=str, sort_keys=True),
        }
        with self._write(f"record a {kind} event") as conn:
            conn.execute(insert(events).values(values))

    # -- reading ----------------------------------------------------------------------------------------

    def history(self, last: int = 20) -> list[CycleView]:
        """The last `last` cycles, newest first (walks the started_at index backwards)."""
        with self._read("read the cycle history") as conn:
            return [CycleView.from_row(row) for row in conn.execute(queries.history(last)).mappings()]

    def cycle_detail(self, cycle_id: int) -> tuple[CycleView, list[SignalView], list[OrderView]] | None:
        """One cycle with its signal and order rows, or None when there is no such cycle."""
        with self._read(f"read cycle {cycle_id}") as conn:
            row = conn.execute(queries.one_cycle(cycle_id)).mappings().first()
            if row is None:
                return None
            sigs = conn.execute(queries.signals_of(cycle_id)).mappings()
            ords = conn.execute(queries.orders_of(cycle_id)).mappings()
            return (
                CycleView.from_row(row),
                [SignalView.from_row(s) for s in sigs],
                [OrderView.from_row(o) for o in ords],
            )

    def daily_summary(self, days: int = 14, *, now: datetime | None = None) -> list[DaySummary]:
        """Per UTC day (by `started_at`), newest first, for the `days` days ending with `now`'s day.

        Without `now` the window ends on the day of the newest cycle. Only days with cycles are listed.
        Reads a bounded `started_at` range through its index, never the whole table.
        """
        with self._read("read the daily summary") as conn:
            if now is None:
                newest = conn.execute(queries.newest_start()).scalar()
                if newest is None:
                    return []
                end_day = parse_iso(newest).date()
            else:
                end_day = parse_iso(iso(now) or "").date()
            rows = conn.execute(queries.daily(end_day, days)).mappings()
            return [DaySummary.from_row(row) for row in rows]
