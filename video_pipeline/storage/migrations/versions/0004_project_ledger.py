"""One owner of project status: the run that holds a project, a history of every
transition, and the `canceled` status.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

STATUSES = (
    "'new', 'queued', 'running', 'needs_review', 'done', 'failed', 'blocked', 'rejected', "
    "'canceled'"
)
OLD_STATUSES = "'new', 'queued', 'running', 'needs_review', 'done', 'failed', 'blocked', 'rejected'"


def upgrade() -> None:
    op.execute(
        f"""
        ALTER TABLE projects DROP CONSTRAINT projects_status_check,
            ADD CONSTRAINT projects_status_check CHECK (status IN ({STATUSES})),
            ADD COLUMN run_id text;
        CREATE TABLE project_events (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
            time timestamptz NOT NULL DEFAULT clock_timestamp(),
            from_status text,
            to_status text NOT NULL,
            stage text,
            reason text,
            run_id text
        );
        CREATE INDEX ix_project_events_project ON project_events (project_id, id);
        CREATE INDEX ix_project_events_run ON project_events (run_id) WHERE run_id IS NOT NULL;
        CREATE INDEX ix_project_events_time ON project_events (time);
        """
    )


def downgrade() -> None:
    op.execute(
        f"""
        DROP TABLE project_events;
        UPDATE projects SET status = 'failed' WHERE status = 'canceled';
        ALTER TABLE projects DROP COLUMN run_id,
            DROP CONSTRAINT projects_status_check,
            ADD CONSTRAINT projects_status_check CHECK (status IN ({OLD_STATUSES}));
        """
    )
