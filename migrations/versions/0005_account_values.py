"""What the money does: cash and unrealised P&L per cycle; fill price, fill time and realised P&L per order.

Revision ID: 0005_account_values
Revises: 0004_backtests
Create Date: 2026-11-29

cycles.cash / cycles.unrealized_pnl come from the balance the cycle already reads (the account value is the
existing cycles.total_value). orders.fill_price / filled_at are settled from Saxo's order log, and realized_pnl
(on orders and on order_legs, a stop or take-profit being a close too) from the fill prices (average cost).
All nullable: rows written before this revision simply have no figures.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_account_values"
down_revision: str | Sequence[str] | None = "0004_backtests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {
    "cycles": ("cash", "unrealized_pnl"),
    "orders": ("fill_price", "filled_at", "realized_pnl"),
    "order_legs": ("realized_pnl",),
}


def _decimal() -> sa.types.TypeEngine:
    return sa.Numeric(28, 10).with_variant(sa.Text(), "sqlite")


def upgrade() -> None:
    for table, names in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name in names:
                batch.add_column(sa.Column(name, sa.Text() if name == "filled_at" else _decimal(), nullable=True))


def downgrade() -> None:
    for table, names in COLUMNS.items():
        with op.batch_alter_table(table) as batch:
            for name in reversed(names):
                batch.drop_column(name)
