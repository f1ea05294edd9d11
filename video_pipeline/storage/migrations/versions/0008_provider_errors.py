"""Failed provider attempts in `provider_usage`: `error` names the kind of failure
(timeout, rate_limited, http_503, ...); such rows cost nothing and feed the error metric.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("provider_usage", sa.Column("error", sa.Text))


def downgrade() -> None:
    op.drop_column("provider_usage", "error")
