"""Chunks kept whole in their heap row, uncompressed, up to a full page.

Text search ranks every chunk that matches the query: for a large owner and a common word,
thousands of rows. With the default layout a 650-character chunk's row (384-d vector, text,
`tsvector`) passed the 2 kB TOAST threshold, so each ranked row's `tsvector` was fetched from
the TOAST table and pglz-decompressed: 17 ms of a 18 ms query for 2,000 matches. A row now
stays inline and uncompressed until it passes 8,160 bytes; the `tsvector` may still move out
(EXTERNAL: out of line, never compressed) for rows larger than that, such as 3,072-d vectors.
Rows written before keep their layout until rewritten (`VACUUM FULL retrievable_text`).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE retrievable_text SET (toast_tuple_target = 8160)")
    op.execute("ALTER TABLE retrievable_text ALTER COLUMN tsv SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.execute("ALTER TABLE retrievable_text ALTER COLUMN tsv SET STORAGE EXTENDED")
    op.execute("ALTER TABLE retrievable_text RESET (toast_tuple_target)")
