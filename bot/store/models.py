"""Tables of the metrics database (SQLAlchemy 2.0 typed declarative).

These classes and `migrations/versions/` describe the same schema; a test runs Alembic's autogenerate
against head and expects no difference. Column names are a contract users query (DESIGN.md §5).

Every time is UTC ISO-8601 text with a trailing Z (`bot.clock.utc_iso`), so SQLite and PostgreSQL sort
and compare them alike. Money and amounts are `ExactDecimal`: NUMERIC(28, 10) on PostgreSQL and TEXT on
SQLite, whose NUMERIC affinity would turn them into binary floats.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, MetaData, Numeric, Table, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def to_decimal(value: Any) -> Decimal:
    """A finite Decimal from a Decimal, int, float or numeric string (floats go through `str`)."""
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not number.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return number


def canonical(number: Decimal) -> Decimal:
    """Drop trailing zeros without switching to exponent notation (1.5000000000 -> 1.5, 100 stays 100)."""
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored without loss: NUMERIC(28, 10), or plain text on SQLite."""

    impl = Numeric(28, 10)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(28, 10, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        number = to_decimal(value)
        return format(number, "f") if dialect.name == "sqlite" else number

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return canonical(to_decimal(value))


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _count() -> Mapped[int]:
    return mapped_column(Integer, nullable=False, default=0, server_default="0")


class Cycle(Base):
    __tablename__ = "cycles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[str] = mapped_column(Text, nullable=False)
    finished_at: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    skip_reason: Mapped[str | None] = mapped_column(Text)
    dry_run: Mapped[bool] = mapped_column(Boolean, nullable=False)
    hours_mode: Mapped[str | None] = mapped_column(Text)
    instruments: Mapped[int] = _count()
    quotes_ok: Mapped[int] = _count()
    signals_buy: Mapped[int] = _count()
    signals_sell: Mapped[int] = _count()
    signals_hold: Mapped[int] = _count()
    orders_placed: Mapped[int] = _count()
    orders_failed: Mapped[int] = _count()
    orders_rejected: Mapped[int] = _count()
    orders_blocked: Mapped[int] = _count()
    orders_prechecked: Mapped[int] = _count()
    error: Mapped[str | None] = mapped_column(Text)
    total_value: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # the account value (Saxo's TotalValue)
    trading_day: Mapped[str | None] = mapped_column(Text)
    host_pid: Mapped[str | None] = mapped_column(Text)
    cash: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # CashBalance
    unrealized_pnl: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # UnrealizedMarginProfitLoss

    __table_args__ = (
        Index("ix_cycles_started_at", "started_at"),
        Index("ix_cycles_status", "status"),
    )


class SignalRow(Base):
    __tablename__ = "signals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), nullable=False)
    instrument_id: Mapped[str] = mapped_column(Text, nullable=False)
    symbol: Mapped[str | None] = mapped_column(Text)
    signal: Mapped[str] = mapped_column(Text, nullable=False)
    price: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(Text)
    bar_time: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_signals_cycle_id", "cycle_id"),)


class OrderRow(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), nullable=False)
    instrument_id: Mapped[str] = mapped_column(Text, nullable=False)
    symbol: Mapped[str | None] = mapped_column(Text)
    side: Mapped[str] = mapped_column(Text, nullable=False)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    order_type: Mapped[str] = mapped_column(Text, nullable=False)
    duration: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    precheck_result: Mapped[str | None] = mapped_column(Text)
    estimated_cost: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    order_id: Mapped[str | None] = mapped_column(Text)
    external_reference: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(Text)
    error_code: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    signal_bar_time: Mapped[str | None] = mapped_column(Text)
    opening: Mapped[bool] = mapped_column(Boolean, nullable=False)
    created_at: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[str] = mapped_column(Text, nullable=False)
    fill_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # from Saxo's order log, a cycle later
    filled_at: Mapped[str | None] = mapped_column(Text)
    realized_pnl: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # of a close, average cost (bot/store/pnl.py)
    bot: Mapped[str | None] = mapped_column(Text)  # the writing bot's JOBSTORE_TABLE; NULL before 0006_order_bot

    __table_args__ = (
        Index("ix_orders_cycle_id", "cycle_id"),
        Index("ix_orders_instrument_id_side_signal_bar_time", "instrument_id", "side", "signal_bar_time"),
        Index("ix_orders_external_reference", "external_reference"),
        Index("ix_orders_status", "status"),
        Index("ix_orders_created_at", "created_at"),
    )


class OrderLegRow(Base):
    """A related order (stop-loss, trailing stop, take-profit) sent with an opening order, and its fate."""

    __tablename__ = "order_legs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_row_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), nullable=False)
    instrument_id: Mapped[str] = mapped_column(Text, nullable=False)
    role: Mapped[str] = mapped_column(Text, nullable=False)  # stop_loss | trailing_stop | take_profit
    order_id: Mapped[str | None] = mapped_column(Text)  # Saxo's OrderId of the leg
    side: Mapped[str] = mapped_column(Text, nullable=False)
    amount: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    status: Mapped[str] = mapped_column(Text, nullable=False)  # working | filled | cancelled | gone | rejected
    fill_price: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    error_code: Mapped[str | None] = mapped_column(Text)
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[str] = mapped_column(Text, nullable=False)
    realized_pnl: Mapped[Decimal | None] = mapped_column(ExactDecimal)  # a filled stop/take-profit closes too

    __table_args__ = (
        Index("ix_order_legs_order_row_id", "order_row_id"),
        Index("ix_order_legs_instrument_id_status", "instrument_id", "status"),
        Index("ix_order_legs_order_id", "order_id"),
    )


class DayBaseline(Base):
    __tablename__ = "day_baselines"

    trading_day: Mapped[str] = mapped_column(Text, primary_key=True)
    total_value: Mapped[Decimal] = mapped_column(ExactDecimal, nullable=False)
    currency: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[str] = mapped_column(Text, nullable=False)


class EventRow(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("cycles.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text, nullable=False)
    details: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_events_at", "at"),)


class BacktestRow(Base):
    """One `python main.py backtest` run (or one run of a sweep): what was tested, over what, and the metrics."""

    __tablename__ = "backtests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recorded_at: Mapped[str] = mapped_column(Text, nullable=False)
    strategy: Mapped[str] = mapped_column(Text, nullable=False)
    params: Mapped[str] = mapped_column(Text, nullable=False)  # JSON object
    date_from: Mapped[str | None] = mapped_column(Text)  # first bar traded
    date_to: Mapped[str | None] = mapped_column(Text)  # last bar traded
    bars: Mapped[int] = mapped_column(Integer, nullable=False)
    instruments: Mapped[int] = mapped_column(Integer, nullable=False)
    metrics: Mapped[str] = mapped_column(Text, nullable=False)  # JSON object, the `--json` metrics
    sweep: Mapped[bool] = mapped_column(Boolean, nullable=False)  # one run of a --sweep

    __table_args__ = (Index("ix_backtests_recorded_at", "recorded_at"),)


def _table(model: type[Base]) -> Table:
    """The model's `Table` (SQLAlchemy types `__table__` as any FromClause; a declarative model's is a Table)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


cycles = _table(Cycle)
signals = _table(SignalRow)
orders = _table(OrderRow)
order_legs = _table(OrderLegRow)
day_baselines = _table(DayBaseline)
events = _table(EventRow)
backtests = _table(BacktestRow)
