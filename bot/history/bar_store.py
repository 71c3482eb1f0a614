"""`BarStore`: the local bar history that `python main.py download` fills and a backtest reads.

Where it lives: `BARS_DATABASE_URL` when set (any SQLAlchemy URL, PostgreSQL included), else a SQLite file
`bars.db` beside the metrics DB's SQLite file (`data/bars.db` by default), and `data/bars.db` when the metrics
DB is not SQLite. It is a separate database on purpose: its tables are created here by `create_all` and are not
part of the metrics DB's Alembic schema, and a cache of public prices has no business in the audit trail.

Tables:

- `bars(instrument_id, horizon, time, open, high, low, close, volume)`, primary key (instrument_id, horizon,
  time); `time` is the bar's start in whole seconds since 1970-01-01 UTC, `horizon` in minutes. Only completed
  bars are stored. Saving a bar that is already there replaces it (Saxo may correct a bar).
- `bar_coverage(instrument_id, horizon, covered_from, checked_at)`: what is known to be complete. Every bar
  Saxo had with `covered_from <= time` and `time + horizon <= checked_at` is stored, so a gap inside that
  window is a gap at Saxo (a weekend, a holiday), not a hole to fetch. `download` reads it to fetch only what
  is missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    func,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from bot.domain import Bar, WatchItem
from bot.errors import ConfigError, StoreError
from bot.history.source import BarDataError, as_utc

DEFAULT_URL = "sqlite:///data/bars.db"
FILE_NAME = "bars.db"
_BATCH = 2000

metadata = MetaData()
bars_table = Table(
    "bars",
    metadata,
    Column("instrument_id", String(64), primary_key=True),
    Column("horizon", Integer, primary_key=True),
    Column("time", BigInteger, primary_key=True),
    Column("open", Float),
    Column("high", Float),
    Column("low", Float),
    Column("close", Float, nullable=False),
    Column("volume", Float),
)
coverage_table = Table(
    "bar_coverage",
    metadata,
    Column("instrument_id", String(64), primary_key=True),
    Column("horizon", Integer, primary_key=True),
    Column("covered_from", BigInteger, nullable=False),
    Column("checked_at", BigInteger, nullable=False),
)


@dataclass(frozen=True)
class Coverage:
    """Every bar with `first <= time` and `time + horizon <= checked_at` is stored."""

    first: datetime
    checked_at: datetime


@dataclass(frozen=True)
class Span:
    """What the store holds for one instrument and horizon."""

    count: int
    oldest: datetime | None
    newest: datetime | None


def bars_url(database_url: str, bars_database_url: str | None = None) -> str:
    """The bar store's URL: the explicit setting, else `bars.db` beside a SQLite metrics DB, else the default."""
    if bars_database_url:
        return bars_database_url
    try:
        url = make_url(database_url)
    except (ArgumentError, ValueError):
        return DEFAULT_URL
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:") or database.startswith("file:"):
        return DEFAULT_URL
    return f"sqlite:///{Path(database).parent / FILE_NAME}"


def _epoch(moment: datetime) -> int:
    utc = as_utc(moment)
    assert utc is not None
    return int(utc.timestamp())


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class BarStore:
    """A `BarSource` backed by SQL; thread-safe (one engine, short transactions)."""

    def __init__(self, url: str) -> None:
        from bot.config_checks import database_url_problem
        from bot.store.engine import safe_url

        problem = database_url_problem(url)
        if problem:
            raise ConfigError("BARS_DATABASE_URL", problem)
        self.url = url
        self.name = f"bar store {safe_url(url)}"
        self.engine = self._make_engine(url)
        with self._errors("create its tables"):
            metadata.create_all(self.engine)

    @classmethod
    def from_settings(cls, settings: Any) -> BarStore:
        return cls(bars_url(settings.database_url, getattr(settings, "bars_database_url", None)))

    def __repr__(self) -> str:
        return f"BarStore({self.name})"

    def dispose(self) -> None:
        self.engine.dispose()

    # -- reading ---------------------------------------------------------------------------------------------

    def bars(self, item: WatchItem, horizon: int, start: datetime | None, end: datetime | None) -> list[Bar]:
        """Stored bars with `start <= time < end`, oldest first; `BarDataError` when none were ever stored."""
        query = select(bars_table).where(bars_table.c.instrument_id == item.id, bars_table.c.horizon == horizon)
        if start is not None:
            query = query.where(bars_table.c.time >= _epoch(start))
        if end is not None:
            query = query.where(bars_table.c.time < _epoch(end))
        with self._errors("read bars"), self.engine.connect() as conn:
            rows = conn.execute(query.order_by(bars_table.c.time)).all()
            if not rows and self._count(conn, item.id, horizon) == 0:
                raise BarDataError(
                    self.name,
                    f"no {horizon}-minute bars of {item.symbol} ({item.id}) stored: run `python main.py download`",
                )
        return [
            Bar(time=_moment(r.time), close=r.close, open=r.open, high=r.high, low=r.low, volume=r.volume) for r in rows
        ]

    def instruments(self) -> list[str]:
        with self._errors("list instruments"), self.engine.connect() as conn:
            return list(conn.execute(select(bars_table.c.instrument_id).distinct().order_by("instrument_id")).scalars())

    def span(self, instrument_id: str, horizon: int) -> Span:
        where = (bars_table.c.instrument_id == instrument_id, bars_table.c.horizon == horizon)
        query = select(func.count(), func.min(bars_table.c.time), func.max(bars_table.c.time)).where(*where)
        with self._errors("read bars"), self.engine.connect() as conn:
            count, oldest, newest = conn.execute(query).one()
        return Span(
            int(count or 0),
            _moment(oldest) if oldest is not None else None,
            _moment(newest) if newest is not None else None,
        )

    def coverage(self, instrument_id: str, horizon: int) -> Coverage | None:
        query = select(coverage_table.c.covered_from, coverage_table.c.checked_at).where(
            coverage_table.c.instrument_id == instrument_id, coverage_table.c.horizon == horizon
        )
        with self._errors("read coverage"), self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else Coverage(_moment(row.covered_from), _moment(row.checked_at))

    # -- writing ---------------------------------------------------------------------------------------------

    def save(self, instrument_id: str, horizon: int, bars: Sequence[Bar]) -> int:
        """Store `bars` (completed ones only: the caller drops the forming bar); returns how many were new."""
        if not bars:
            return 0
        rows = {
            _epoch(b.time): {
                "instrument_id": instrument_id,
                "horizon": horizon,
                "time": _epoch(b.time),
                "open": b.open,
                "high": b.high,
                "low": b.low,
                "close": b.close,
                "volume": b.volume,
            }
            for b in bars
        }
        times = sorted(rows)
        key = (bars_table.c.instrument_id == instrument_id, bars_table.c.horizon == horizon)
        with self._errors("save bars"), self.engine.begin() as conn:
            before = self._count(conn, instrument_id, horizon)
            for chunk_start in range(0, len(times), _BATCH):
                chunk = times[chunk_start : chunk_start + _BATCH]
                # Replace what is there: a corrected bar wins over the stored copy. Delete + insert works on every
                # backend and stays in one transaction.
                conn.execute(delete(bars_table).where(*key, bars_table.c.time.in_(chunk)))
                conn.execute(bars_table.insert(), [rows[t] for t in chunk])
            return self._count(conn, instrument_id, horizon) - before

    def set_coverage(self, instrument_id: str, horizon: int, coverage: Coverage) -> None:
        values = {"covered_from": _epoch(coverage.first), "checked_at": _epoch(coverage.checked_at)}
        key = (coverage_table.c.instrument_id == instrument_id, coverage_table.c.horizon == horizon)
        with self._errors("save coverage"), self.engine.begin() as conn:
            if conn.execute(coverage_table.update().where(*key).values(**values)).rowcount == 0:
                conn.execute(coverage_table.insert().values(instrument_id=instrument_id, horizon=horizon, **values))

    # -- plumbing --------------------------------------------------------------------------------------------

    @staticmethod
    def _count(conn: Connection, instrument_id: str, horizon: int) -> int:
        query = select(func.count()).where(bars_table.c.instrument_id == instrument_id, bars_table.c.horizon == horizon)
        return int(conn.execute(query).scalar_one())

    def _make_engine(self, url: str) -> Engine:
        from bot.store.engine import sqlite_file

        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite":
            return create_engine(parsed, pool_pre_ping=True)
        path = sqlite_file(parsed)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"{self.name}: cannot create folder {path.parent}: {exc}") from exc
        engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 5.0})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            try:
                if path is not None:
                    cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = NORMAL")
            finally:
                cursor.close()

        return engine

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        from bot.store.engine import describe

        try:
            yield
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"{self.name}: could not {action}: {describe(exc)}") from exc
