from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from video_pipeline.devstack.embedded import read_state
from video_pipeline.devstack.postgres import ensure_database
from video_pipeline.providers.offline.embeddings import HashingEmbeddings
from video_pipeline.storage.migrate import downgrade, upgrade
from video_pipeline.storage.tables import metadata
from video_pipeline.storage.vectors import ensure_owner_index, owner_index_prefix, search
from video_pipeline_tests.storage.chunks import partition_of, store_texts

# The migrations create exactly the tables the code queries against.
EXPECTED = set(metadata.tables)


def _tables(url: str) -> set[str]:
    """The tables, a partitioned table counted once (its partitions are its storage)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = conn.execute(
                sa.text(
                    "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p') "
                    "AND NOT relispartition AND relnamespace = current_schema()::regnamespace"
                )
            ).scalars()
            return set(names) - {"alembic_version"}
    finally:
        engine.dispose()


def _fresh_database(stack: dict[str, str], name: str) -> str:
    """A new database on the test server (dropped first if a run left one)."""
    state = read_state(Path(stack["VIDEO_PIPELINE_DATA_DIR"]))
    assert state is not None
    admin = sa.create_engine(state.postgres.url("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    ensure_database(state.postgres, name)
    return stack["DATABASE_URL"].replace("/video_pipeline?", f"/{name}?")


def test_migrations_up_down_up_on_a_fresh_database(stack: dict[str, str]) -> None:
    url = _fresh_database(stack, "migration_check")

    upgrade(url)
    assert _tables(url) == EXPECTED
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("projects")}
        vector = conn.execute(
            sa.text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        ).scalar_one()
    engine.dispose()
    assert {
        "id",
        "owner_id",
        "title",
        "brief",
        "settings",
        "status",
        "status_detail",
        "created_at",
        "updated_at",
    } <= columns
    assert tuple(int(x) for x in vector.split(".")[:2]) >= (0, 8)

    downgrade(url)
    assert _tables(url) == set()
    upgrade(url)
    assert _tables(url) == EXPECTED


def test_partitioning_by_owner_keeps_every_chunk_its_id_and_each_owners_index(
    stack: dict[str, str],
) -> None:
    """Migration 0012 moves the chunks into a table partitioned by owner hash and back."""
    url = _fresh_database(stack, "migration_rows")
    upgrade(url, "0011")
    engine = sa.create_engine(url)
    owners = ["big", "o'neil %_ \\ 名前"]
    for owner in owners:
        store_texts(engine, owner, [f"{owner} chunk {i} about bicycles" for i in range(30)])
    embedder = HashingEmbeddings()
    assert ensure_owner_index(engine, "big", embedder.model, embedder.dimension, min_rows=30)
    index = f"{owner_index_prefix('big', embedder.model)}10"
    query = embedder.embed(["chunk 7 about bicycles"])[0]

    def rows() -> list[tuple[Any, ...]]:
        with engine.connect() as conn:
            return [
                tuple(r)
                for r in conn.execute(
                    sa.text(
                        "SELECT id, project_id, owner_id, content, embedding::text, tsv::text "
                        "FROM retrievable_text ORDER BY id"
                    )
                )
            ]

    def index_table() -> str:
        with engine.connect() as conn:
            return str(
                conn.execute(
                    sa.text(
                        "SELECT indrelid::regclass::text FROM pg_index "
                        "WHERE indexrelid = CAST(:name AS regclass)"
                    ),
                    {"name": index},
                ).scalar_one()
            )

    def found() -> tuple[int, list[int]]:
        """The big owner's nearest chunk (its index is approximate), the other's exact top 5."""
        big = search(engine, "big", embedder.model, query, limit=1)[0].chunk_id
        return big, [h.chunk_id for h in search(engine, owners[1], embedder.model, query, limit=5)]

    before, hits = rows(), found()
    assert len(before) == 60 and index_table() == "retrievable_text"
    engine.dispose()

    upgrade(url)
    assert rows() == before
    assert found() == hits
    big_partition = partition_of(engine, "big")
    assert big_partition.startswith("retrievable_text_p") and index_table() == big_partition
    # New chunks get ids after the copied ones.
    store_texts(engine, "big", ["one more chunk"])
    assert min(r[0] for r in rows()[60:]) > max(r[0] for r in before)
    engine.dispose()

    downgrade(url, "0011")
    assert len(rows()) == 61 and rows()[:60] == before
    assert index_table() == "retrievable_text"
    assert found() == hits
    engine.dispose()
