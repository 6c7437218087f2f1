"""Linkage schema and retention of projects, upload deletion dates, shared privacy checks.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.db.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN of nullable columns: no table rebuild on SQLite.
    op.add_column("projects", sa.Column("linkage_schema", sa.JSON(), nullable=True))
    op.add_column("projects", sa.Column("retention_days", sa.Integer(), nullable=True))
    op.add_column("uploads", sa.Column("delete_after", UTCDateTime(), nullable=True))
    op.create_index("ix_uploads_delete_after", "uploads", ["status", "delete_after"])
    op.create_table(
        "privacy_evaluations",
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("shared_at", UTCDateTime(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], ondelete="CASCADE",
                                name="fk_privacy_evaluations_project_id_projects"),
        sa.PrimaryKeyConstraint("project_id", "agency", name="pk_privacy_evaluations"),
    )


def downgrade() -> None:
    op.drop_table("privacy_evaluations")
    op.drop_index("ix_uploads_delete_after", table_name="uploads")
    with op.batch_alter_table("uploads") as batch:
        batch.drop_column("delete_after")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("retention_days")
        batch.drop_column("linkage_schema")
