"""Intake and retention state on `projects`, so the intake tick never lists Dagster's partitions.

`partition_added_at` is set once the project's partition and run request are stored (the
intake sensor confirms them on its next tick); a partial index over the waiting rows where
it is still NULL makes finding new projects cost O(new), whatever the number of past ones.
`partition_archived_at` marks projects whose partition the retention schedule removed;
`reruns` counts `project rerun`s so each rerun gets its own run key.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("projects", sa.Column("partition_added_at", sa.DateTime(timezone=True)))
    op.add_column("projects", sa.Column("partition_archived_at", sa.DateTime(timezone=True)))
    op.add_column("projects", sa.Column("reruns", sa.Integer, nullable=False, server_default="0"))
    # Projects past intake already have their partition; 'new' and 'queued' ones are left
    # for the sensor, whose run key keeps an already requested run from starting twice.
    op.execute(
        "UPDATE projects SET partition_added_at = updated_at WHERE status NOT IN ('new', 'queued')"
    )
    op.execute(
        "CREATE INDEX projects_awaiting_partition ON projects (created_at) "
        "WHERE partition_added_at IS NULL AND status IN ('new', 'queued')"
    )
    op.execute(
        "CREATE INDEX projects_archivable ON projects (updated_at) "
        "WHERE partition_archived_at IS NULL AND partition_added_at IS NOT NULL "
        "AND status IN ('blocked', 'canceled', 'done', 'failed', 'rejected')"
    )


def downgrade() -> None:
    op.execute("DROP INDEX projects_archivable")
    op.execute("DROP INDEX projects_awaiting_partition")
    op.drop_column("projects", "reruns")
    op.drop_column("projects", "partition_archived_at")
    op.drop_column("projects", "partition_added_at")
