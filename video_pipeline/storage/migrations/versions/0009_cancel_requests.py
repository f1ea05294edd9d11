"""Cancel requests on `projects`: `cancel_requested_at` and `cancel_requested_by`, written by
`project cancel` or another service; the `project_cancel_requests` sensor acts on them.

A partial index holds only requests on projects that have not ended, so the sensor's tick
costs O(pending requests).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("projects", sa.Column("cancel_requested_at", sa.DateTime(timezone=True)))
    op.add_column("projects", sa.Column("cancel_requested_by", sa.Text))
    op.create_index(
        "projects_pending_cancels",
        "projects",
        ["cancel_requested_at"],
        postgresql_where=sa.text(
            "cancel_requested_at IS NOT NULL "
            "AND status IN ('new', 'deferred', 'queued', 'running', 'needs_review')"
        ),
    )


def downgrade() -> None:
    op.drop_index("projects_pending_cancels", table_name="projects")
    op.drop_column("projects", "cancel_requested_by")
    op.drop_column("projects", "cancel_requested_at")
