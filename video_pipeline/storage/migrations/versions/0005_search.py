"""Search at scale: full text beside the vectors, vectors kept inline, per-owner indexes.

- `text_config` (the project's text search configuration) and `tsv`, a stored generated
  `tsvector`, indexed with `owner_id` in one GIN index (btree_gin) for owner-scoped text search.
- `embedding` uses storage MAIN: pgvector's default (EXTERNAL) moves vectors out of line once a
  row passes ~2 kB, which makes the exact per-owner scans read TOAST for every row.
- The whole-table HNSW index of each dimension goes: filtered by owner it missed the true
  neighbours of small owners. Small owners are searched exactly; each large owner gets a partial
  HNSW index of its own (see storage.vectors).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

DROP_INDEXES = """
DO $$
DECLARE name text;
BEGIN
    FOR name IN
        SELECT indexname FROM pg_indexes
        WHERE tablename = 'retrievable_text' AND indexname LIKE '{pattern}'
    LOOP
        EXECUTE format('DROP INDEX IF EXISTS %I', name);
    END LOOP;
END $$;
"""


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.execute(DROP_INDEXES.format(pattern="ix\\_retrievable\\_text\\_hnsw\\_%"))
    op.execute("ALTER TABLE retrievable_text ALTER COLUMN embedding SET STORAGE MAIN")
    op.execute(
        "ALTER TABLE retrievable_text "
        "ADD COLUMN text_config regconfig NOT NULL DEFAULT 'simple', "
        "ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector(text_config, content)) STORED"
    )
    op.execute(
        "CREATE INDEX ix_retrievable_text_owner_tsv ON retrievable_text USING gin (owner_id, tsv)"
    )


def downgrade() -> None:
    op.execute(DROP_INDEXES.format(pattern="ix\\_rt\\_owner\\_hnsw\\_%"))
    op.execute("ALTER TABLE retrievable_text DROP COLUMN tsv, DROP COLUMN text_config")
    op.execute("ALTER TABLE retrievable_text ALTER COLUMN embedding SET STORAGE EXTERNAL")
