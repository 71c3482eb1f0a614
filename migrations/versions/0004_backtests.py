"""backtests: every `python main.py backtest` run (and each run of a sweep), for `history --backtests`.

Revision ID: 0004_backtests
Revises: 0002
Create Date: 2026-11-29

When it ran, the strategy, its parameters (JSON), the range of bars traded, how many bars and instruments,
the metrics (JSON, as `backtest --json` prints them) and whether it was one run of a sweep.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_backtests"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "backtests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recorded_at", sa.Text(), nullable=False),
        sa.Column("strategy", sa.Text(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("date_from", sa.Text(), nullable=True),
        sa.Column("date_to", sa.Text(), nullable=True),
        sa.Column("bars", sa.Integer(), nullable=False),
        sa.Column("instruments", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("sweep", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_backtests")),
    )
    op.create_index("ix_backtests_recorded_at", "backtests", ["recorded_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_backtests_recorded_at", table_name="backtests")
    op.drop_table("backtests")
