"""Renders remember the hash of their inputs, so an unchanged project is not rendered again.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE renders ADD COLUMN input_hash text")


def downgrade() -> None:
    op.execute("ALTER TABLE renders DROP COLUMN input_hash")
