"""Initial metrics schema: cycles, signals, orders, day_baselines, events.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Times are UTC ISO-8601 text with a Z. Money and amounts are NUMERIC(28, 10), TEXT on SQLite (exact there too).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _decimal() -> sa.types.TypeEngine:
    return sa.Numeric(28, 10).with_variant(sa.Text(), "sqlite")


def _count(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def upgrade() -> None:
    op.create_table(
        "cycles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("started_at", sa.Text(), nullable=False),
        sa.Column("finished_at", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("skip_reason", sa.Text(), nullable=True),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("hours_mode", sa.Text(), nullable=True),
        _count("instruments"),
        _count("quotes_ok"),
        _count("signals_buy"),
        _count("signals_sell"),
        _count("signals_hold"),
        _count("orders_placed"),
        _count("orders_failed"),
        _count("orders_rejected"),
        _count("orders_blocked"),
        _count("orders_prechecked"),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("total_value", _decimal(), nullable=True),
        sa.Column("trading_day", sa.Text(), nullable=True),
        sa.Column("host_pid", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cycles"),
    )
    op.create_index("ix_cycles_started_at", "cycles", ["started_at"])
    op.create_index("ix_cycles_status", "cycles", ["status"])

    op.create_table(
        "signals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=True),
        sa.Column("signal", sa.Text(), nullable=False),
        sa.Column("price", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("bar_time", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["cycles.id"],
            name="fk_signals_cycle_id_cycles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_signals"),
    )
    op.create_index("ix_signals_cycle_id", "signals", ["cycle_id"])

    op.create_table(
        "orders",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=True),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("amount", _decimal(), nullable=False),
        sa.Column("order_type", sa.Text(), nullable=False),
        sa.Column("duration", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("precheck_result", sa.Text(), nullable=True),
        sa.Column("estimated_cost", _decimal(), nullable=True),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("external_reference", sa.Text(), nullable=True),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("signal_bar_time", sa.Text(), nullable=True),
        sa.Column("opening", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["cycles.id"],
            name="fk_orders_cycle_id_cycles",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_orders"),
    )
    op.create_index("ix_orders_cycle_id", "orders", ["cycle_id"])
    op.create_index(
        "ix_orders_instrument_id_side_signal_bar_time", "orders", ["instrument_id", "side", "signal_bar_time"]
    )
    op.create_index("ix_orders_external_reference", "orders", ["external_reference"])
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_index("ix_orders_created_at", "orders", ["created_at"])

    op.create_table(
        "day_baselines",
        sa.Column("trading_day", sa.Text(), nullable=False),
        sa.Column("total_value", _decimal(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("trading_day", name="pk_day_baselines"),
    )

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"],
            ["cycles.id"],
            name="fk_events_cycle_id_cycles",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_at", "events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_events_at", table_name="events")
    op.drop_table("events")
    op.drop_table("day_baselines")
    for index in (
        "ix_orders_created_at",
        "ix_orders_status",
        "ix_orders_external_reference",
        "ix_orders_instrument_id_side_signal_bar_time",
        "ix_orders_cycle_id",
    ):
        op.drop_index(index, table_name="orders")
    op.drop_table("orders")
    op.drop_index("ix_signals_cycle_id", table_name="signals")
    op.drop_table("signals")
    op.drop_index("ix_cycles_status", table_name="cycles")
    op.drop_index("ix_cycles_started_at", table_name="cycles")
    op.drop_table("cycles")
