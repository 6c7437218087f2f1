"""Run results stored in blocks of consecutive rows (one Arrow IPC payload per block).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Runs saved before this revision keep their rows in run_results (read as before).
    op.create_table(
        "run_result_blocks",
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("block", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], ondelete="CASCADE",
                                name="fk_run_result_blocks_run_id_runs"),
        sa.PrimaryKeyConstraint("run_id", "agency", "block", name="pk_run_result_blocks"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("run_result_blocks")
