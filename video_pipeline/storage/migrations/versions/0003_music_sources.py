"""A project source may be background music (`role = 'music'`, a local audio file).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE project_sources DROP CONSTRAINT project_sources_role_check, "
        "ADD CONSTRAINT project_sources_role_check "
        "CHECK (role IN ('material', 'reference', 'music'))"
    )


def downgrade() -> None:
    op.execute("DELETE FROM project_sources WHERE role = 'music'")
    op.execute(
        "ALTER TABLE project_sources DROP CONSTRAINT project_sources_role_check, "
        "ADD CONSTRAINT project_sources_role_check CHECK (role IN ('material', 'reference'))"
    )
