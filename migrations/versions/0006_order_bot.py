"""Which bot wrote an order row, so bots sharing one metrics DB keep their order checks apart.

Revision ID: 0006_order_bot
Revises: 0005_account_values
Create Date: 2026-11-29

orders.bot is the writing bot's identity, its JOBSTORE_TABLE (README "Several bots, one PostgreSQL"). The checks
that stop a duplicate order (a signal acted on once, an instrument blocked while an order's outcome is unknown)
and reconciliation read only their own bot's rows. Rows written before this revision have NULL here, and every
bot still counts them, as before.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_order_bot"
down_revision: str | Sequence[str] | None = "0005_account_values"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("bot", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("bot")
