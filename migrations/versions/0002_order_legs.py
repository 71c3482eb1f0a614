"""order_legs: the related orders (stop-loss, trailing stop, take-profit) sent with an opening order.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29

One row per leg: its role, Saxo OrderId, price, and fate (working, filled with its price, cancelled, gone,
rejected). Deleted with its order row.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _decimal() -> sa.types.TypeEngine:
    return sa.Numeric(28, 10).with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "order_legs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("order_row_id", sa.Integer(), nullable=False),
        sa.Column("instrument_id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("side", sa.Text(), nullable=False),
        sa.Column("amount", _decimal(), nullable=False),
        sa.Column("price", _decimal(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("fill_price", _decimal(), nullable=True),
        sa.Column("error_code", sa.Text(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_row_id"],
            ["orders.id"],
            name="fk_order_legs_order_row_id_orders",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_order_legs"),
    )
    op.create_index("ix_order_legs_order_row_id", "order_legs", ["order_row_id"])
    op.create_index("ix_order_legs_instrument_id_status", "order_legs", ["instrument_id", "status"])
    op.create_index("ix_order_legs_order_id", "order_legs", ["order_id"])


def downgrade() -> None:
    op.drop_index("ix_order_legs_order_id", table_name="order_legs")
    op.drop_index("ix_order_legs_instrument_id_status", table_name="order_legs")
    op.drop_index("ix_order_legs_order_row_id", table_name="order_legs")
    op.drop_table("order_legs")
