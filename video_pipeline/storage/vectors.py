"""Chunks and their embeddings in pgvector, searchable per owner.

One `vector` column without a fixed dimension holds every model's embeddings; a query names
its model and dimension, so one ranking never mixes models. Dimensions above pgvector's 2,000
limit for `vector` indexes are indexed and searched as `halfvec`.

Index design, for owners of very different sizes. An owner with fewer than
`EXACT_SEARCH_MAX_ROWS` chunks of a model is searched exactly: the (owner_id, model) btree finds
its rows and Postgres sorts them by distance (recall 1.0, a few milliseconds at that size).
An owner at or above it gets a partial IVFFlat index of its own (`WHERE owner_id = ... AND
model = ... AND dimension = ...`), so its search scans lists of its own chunks only: no filter,
no candidates lost to other owners. IVFFlat rather than HNSW: an owner's chunks come in tight
groups (the chunks of one document); on the benchmark's largest owner (65k chunks) a per-owner
HNSW graph left the same queries at recall@10 0.7 whether ef_search was 100 or 400 (and one query
at 0.0 in the 1M run), while k-means lists follow the groups.

Both paths run the same query; the planner picks the partial index when the query's literal
predicate matches it (psycopg2 inlines parameters; a driver with server-side prepared
statements would need the literals inlined too). The table is partitioned by a hash of the
owner (migration 0012): the literal owner also lets the planner keep only the partition that
holds it, so a search weighs that partition's owner indexes rather than every large owner's,
and an owner's index is built on its partition.

Writes stream rows with a binary COPY, one transaction per batch of projects, replacing their
rows; a write that takes an owner past the threshold then builds its index concurrently, and
one that has quadrupled the owner since its index was built builds a new one with more lists.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
import sqlalchemy as sa

from video_pipeline.storage.copy_rows import (
    COLUMNS,
    HEADER,
    TRAILER,
    encode_project,
    vectors_array,
)
from video_pipeline.storage.fulltext import text_search_config
from video_pipeline.storage.hits import SearchHit

VECTOR_INDEX_LIMIT = 2000
# Below this, exact search (always right) is used. An exact search visits every heap row of
# the owner (a search took 8.6 ms at 4,144 chunks and 18.5 ms at 9,492 at p50), while the
# owner's index reads at most PROBES * ROWS_PER_LIST vectors from its own compact lists (3,000;
# ~4 ms). Up to 3,000 chunks the index has at most 12 lists, all probed: still exact.
EXACT_SEARCH_MAX_ROWS = 2_000
# A search reads about PROBES * ROWS_PER_LIST vectors, whatever the owner's size. pgvector's
# guidance (rows / 1000 lists, 8 probes) read 8,000 per query. Lists of 250 rows follow the
# owner's documents more closely: 8 probes (2,000 vectors) kept recall@10 at 1.0 on the
# benchmark's largest owners in three index builds out of four and dropped one query to 0.8 in
# the fourth (k-means starts from a random sample); 12 probes leave a margin. See BENCHMARKS.md.
ROWS_PER_LIST = 250
PROBES = 12
# k-means over a 64k-chunk owner; more than the default 64 MB keeps the build in memory.
INDEX_BUILD_MEMORY = "512MB"
INDEX_PREFIX = "ix_rt_owner_ivf_"


@dataclass(frozen=True)
class StoredChunk:
    kind: str
    ref: str
    ordinal: int
    content: str
    embedding: Sequence[float]


@dataclass(frozen=True)
class ProjectChunks:
    """Every chunk of one project, embedded by one model; `vectors` (n x dimension) may be
    given instead of each chunk's `embedding`."""

    project_id: str
    owner_id: str
    model: str
    dimension: int
    chunks: Sequence[StoredChunk]
    text_config: str = "simple"
    vectors: np.ndarray | None = field(default=None, compare=False)

    def vector_array(self) -> np.ndarray:
        source = self.vectors if self.vectors is not None else [c.embedding for c in self.chunks]
        array = vectors_array(source, self.dimension)
        if len(array) != len(self.chunks):
            raise ValueError(f"{len(array)} vectors for {len(self.chunks)} chunks")
        return array


def _cast(dimension: int) -> str:
    vector_type = "halfvec" if dimension > VECTOR_INDEX_LIMIT else "vector"
    return f"{vector_type}({int(dimension)})"


def owner_index_prefix(owner_id: str, model: str) -> str:
    """The start of the owner's index names: valid whatever the owner string holds."""
    digest = hashlib.sha256(f"{owner_id}\x00{model}".encode()).hexdigest()[:24]
    return f"{INDEX_PREFIX}{digest}_"


def lists_for(rows: int) -> int:
    return max(10, rows // ROWS_PER_LIST)


def replace_chunks(
    engine: sa.Engine,
    project_id: str,
    owner_id: str,
    model: str,
    dimension: int,
    chunks: Sequence[StoredChunk],
    language: str = "en",
) -> int:
    """Replace every chunk of the project (idempotent re-runs)."""
    batch = ProjectChunks(
        project_id, owner_id, model, dimension, chunks, text_search_config(language)
    )
    return replace_projects(engine, [batch])


def replace_projects(
    engine: sa.Engine, batches: Sequence[ProjectChunks], maintain_indexes: bool = True
) -> int:
    """Replace the chunks of several projects in one transaction with one binary COPY.

    With `maintain_indexes`, owners that reach `EXACT_SEARCH_MAX_ROWS` get their own index
    right after; bulk loads pass False and call `index_large_owners` once at the end."""
    oids: dict[str, int] = {}
    with engine.begin() as conn:
        # Two writes of one project at once would each delete only the rows committed before
        # it started and both insert: the second waits here for the first to commit instead.
        conn.execute(
            sa.text(
                "SELECT pg_advisory_xact_lock(hashtext('chunks:' || id)) "
                "FROM unnest(CAST(:ids AS text[])) AS id ORDER BY id"
            ),
            {"ids": sorted({b.project_id for b in batches})},
        )
        for config in {b.text_config for b in batches}:
            oids[config] = int(
                conn.execute(
                    sa.text("SELECT CAST(:c AS regconfig)::oid"), {"c": config}
                ).scalar_one()
            )
        conn.execute(
            sa.text("DELETE FROM retrievable_text WHERE project_id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": [b.project_id for b in batches]},
        )
        payload = io.BytesIO()
        payload.write(HEADER)
        for b in batches:
            vectors = b.vector_array()
            for row in encode_project(
                b.project_id, b.owner_id, b.model, oids[b.text_config], b.chunks, vectors
            ):
                payload.write(row)
        payload.write(TRAILER)
        payload.seek(0)
        cursor = conn.connection.cursor()
        cursor.copy_expert(
            f"COPY retrievable_text ({COLUMNS}) FROM STDIN WITH (FORMAT binary)",
            payload,
            size=1 << 20,
        )
    if maintain_indexes:
        for owner, model, dimension in {(b.owner_id, b.model, b.dimension) for b in batches}:
            ensure_owner_index(engine, owner, model, dimension)
    return sum(len(b.chunks) for b in batches)


def _owner_indexes(conn: sa.Connection, owner_id: str, model: str) -> dict[str, bool]:
    """The owner's index names (the suffix is the number of lists) and whether each is valid
    (a concurrent build that was interrupted leaves an invalid one)."""
    rows = conn.execute(
        sa.text(
            "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c "
            "ON c.oid = i.indexrelid WHERE c.relname LIKE :prefix || '%'"
        ),
        {"prefix": owner_index_prefix(owner_id, model).replace("_", "\\_")},
    ).all()
    return {str(name): bool(valid) for name, valid in rows}


def ensure_owner_index(
    engine: sa.Engine,
    owner_id: str,
    model: str,
    dimension: int,
    min_rows: int = EXACT_SEARCH_MAX_ROWS,
) -> bool:
    """Build the owner's partial IVFFlat index once it has `min_rows` chunks of the model, and
    a larger one when it has grown fourfold; True when an index exists afterwards. Builds
    concurrently (other writes go on), then drops the index it replaces."""
    prefix = owner_index_prefix(owner_id, model)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        count = conn.execute(
            sa.text(
                "SELECT count(*) FROM retrievable_text WHERE owner_id = :owner AND model = :model"
            ),
            {"owner": owner_id, "model": model},
        ).scalar_one()
        wanted = lists_for(count)

        def current(indexes: dict[str, bool]) -> bool:
            return any(
                valid and 4 * int(name.rsplit("_", 1)[1]) >= wanted
                for name, valid in indexes.items()
            )

        existing = _owner_indexes(conn, owner_id, model)
        if current(existing):
            return True
        # No rows: nothing to build on (and no partition holds the owner).
        if count == 0 or (count < min_rows and not existing):
            return False
        conn.execute(sa.text("SELECT pg_advisory_lock(hashtext(:p))"), {"p": prefix})
        try:
            indexes = _owner_indexes(conn, owner_id, model)
            if not current(indexes):
                name = f"{prefix}{wanted}"
                conn.execute(sa.text(f"SET maintenance_work_mem = '{INDEX_BUILD_MEMORY}'"))
                if name in indexes:  # an interrupted build of the same size
                    conn.execute(sa.text(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"'))
                conn.execute(sa.text(_index_ddl(conn, name, owner_id, model, dimension, wanted)))
                for old in set(indexes) - {name}:
                    conn.execute(sa.text(f'DROP INDEX CONCURRENTLY IF EXISTS "{old}"'))
        finally:
            conn.execute(sa.text("RESET maintenance_work_mem"))
            conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:p))"), {"p": prefix})
    return True


def _index_ddl(
    conn: sa.Connection, name: str, owner_id: str, model: str, dimension: int, lists: int
) -> str:
    ops = "halfvec_cosine_ops" if dimension > VECTOR_INDEX_LIMIT else "vector_cosine_ops"
    # On the partition that holds the owner's rows (the build reads that partition alone).
    # Postgres quotes the names, owner and model itself (format %I, %s of a regclass, %L): any
    # string is safe here.
    return str(
        conn.execute(
            sa.text(
                "SELECT format('CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON %s "
                "USING ivfflat ((embedding::' || :cast || ') ' || :ops || ') "
                "WITH (lists = ' || :lists || ') "
                "WHERE owner_id = %L AND model = %L AND dimension = ' || :dimension, "
                ":name, (SELECT tableoid::regclass FROM retrievable_text "
                "WHERE owner_id = :owner LIMIT 1), :owner, :model)"
            ),
            {
                "cast": _cast(dimension),
                "ops": ops,
                "lists": str(int(lists)),
                "dimension": str(int(dimension)),
                "name": name,
                "owner": owner_id,
                "model": model,
            },
        ).scalar_one()
    )


def index_large_owners(engine: sa.Engine, min_rows: int = EXACT_SEARCH_MAX_ROWS) -> list[str]:
    """Build the missing partial indexes of every owner with `min_rows` chunks of a model."""
    with engine.connect() as conn:
        groups = conn.execute(
            sa.text(
                "SELECT owner_id, model, min(dimension) FROM retrievable_text "
                "GROUP BY owner_id, model HAVING count(*) >= :min ORDER BY count(*) DESC"
            ),
            {"min": min_rows},
        ).all()
    for owner, model, dimension in groups:
        ensure_owner_index(engine, owner, model, int(dimension), min_rows)
    return [owner_index_prefix(owner, model) for owner, model, _ in groups]


def nearest(
    conn: sa.Connection,
    owner_id: str,
    model: str,
    query_embedding: Sequence[float],
    limit: int,
) -> list[SearchHit]:
    """Nearest chunks by cosine distance among one owner's chunks of one model (exact for
    small owners, the owner's own IVFFlat lists for large ones)."""
    rows = conn.execute(
        _nearest_statement(len(query_embedding)),
        {
            "query": vector_literal(query_embedding),
            "owner": owner_id,
            "model": model,
            "limit": limit,
        },
    ).all()
    return [
        SearchHit(int(r.id), str(r.project_id), r.kind, r.ref, r.content, 1.0 - float(r.distance))
        for r in rows
    ]


@cache
def _nearest_statement(dimension: int) -> sa.TextClause:
    # One round trip: the SET LOCAL and the query go in one simple-protocol message, and the
    # query vector appears once (ORDER BY its alias still uses the index).
    cast = _cast(dimension)
    return sa.text(
        f"SET LOCAL ivfflat.probes = {PROBES}; "
        f"SELECT id, project_id, kind, ref, content, "
        f"(embedding::{cast}) <=> CAST(:query AS {cast}) AS distance "
        f"FROM retrievable_text "
        f"WHERE owner_id = :owner AND model = :model AND dimension = {int(dimension)} "
        f"ORDER BY distance LIMIT :limit"
    )


def vector_literal(vector: Iterable[float]) -> str:
    return "[" + ",".join(repr(float(x)) for x in vector) + "]"


def search(
    engine: sa.Engine,
    owner_id: str,
    model: str,
    query_embedding: Sequence[float],
    limit: int = 5,
) -> list[SearchHit]:
    """Vector search alone (see storage.search for text and hybrid)."""
    with engine.begin() as conn:
        return nearest(conn, owner_id, model, query_embedding, limit)


def owner_models(engine: sa.Engine, owner_id: str) -> dict[str, int]:
    """How many chunks of the owner each embedding model holds."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT model, count(*) FROM retrievable_text WHERE owner_id = :owner "
                "GROUP BY model"
            ),
            {"owner": owner_id},
        ).all()
    return {str(model): int(count) for model, count in rows}
