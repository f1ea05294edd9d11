"""A notification on channel `video_pipeline_intake` when a project comes to need a run.

The intake sensor's idle tick listens on it, so a project committed between ticks is taken
at once instead of at the next tick (Dagster's sensor daemon looks at its sensors every 5 s
at most). The trigger fires for exactly the rows the intake query reads (the predicate of
`projects_awaiting_partition`); identical notifications of one transaction are delivered
once, so a bulk insert wakes the listener once, at its commit.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION video_pipeline_notify_intake() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('video_pipeline_intake', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER projects_notify_intake
        AFTER INSERT OR UPDATE OF status, partition_added_at ON projects
        FOR EACH ROW
        WHEN (NEW.partition_added_at IS NULL AND NEW.status IN ('new', 'queued'))
        EXECUTE FUNCTION video_pipeline_notify_intake()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER projects_notify_intake ON projects")
    op.execute("DROP FUNCTION video_pipeline_notify_intake()")
