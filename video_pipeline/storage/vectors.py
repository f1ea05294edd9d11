"""Chunks and their embeddings in pgvector, searchable per owner.

One `vector` column without a fixed dimension holds every model's embeddings; a query names
its model and dimension, so one ranking never mixes models. Dimensions above pgvector's 2,000
limit for `vector` indexes are indexed and searched as `halfvec`.

Index design, for owners of very different sizes. An owner with fewer than
`EXACT_SEARCH_MAX_ROWS` chunks of a model is searched exactly: the (owner_id, model) btree finds
its rows and Postgres sorts them by distance (recall 1.0, a few milliseconds at that size).
An owner at or above it gets a partial HNSW index of its own (`WHERE owner_id = ... AND
model = ... AND dimension = ...`), so its search walks a graph of its own chunks only: no
filter, no candidates lost to other owners. Both paths run the same query; the planner picks
the partial index when the query's literal predicate matches it (psycopg2 inlines parameters;
a driver with server-side prepared statements would need the literals inlined too).

Writes stream rows with a binary COPY, one transaction per batch of projects, replacing their
rows; a write that takes an owner past the threshold then builds its index concurrently.
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

HNSW_VECTOR_LIMIT = 2000
# Measured by benchmarks/search.py: an exact scan of this many 384-d chunks stays within a few
# milliseconds on 2 cores, and below it exact search beats HNSW on recall at equal speed.
EXACT_SEARCH_MAX_ROWS = 10_000
# Candidate list of the per-owner HNSW scans; recall@10 >= 0.9 for every benchmark query.
EF_SEARCH = 100
# Building a 64k-chunk 384-d graph in memory needs about 200 MB; beyond it pgvector slows down.
INDEX_BUILD_MEMORY = "512MB"
INDEX_PREFIX = "ix_rt_owner_hnsw_"


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
    vector_type = "halfvec" if dimension > HNSW_VECTOR_LIMIT else "vector"
    return f"{vector_type}({int(dimension)})"


def owner_index_name(owner_id: str, model: str) -> str:
    """A name that is a valid identifier whatever the owner string holds."""
    digest = hashlib.sha256(f"{owner_id}\x00{model}".encode()).hexdigest()[:24]
    return INDEX_PREFIX + digest


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

    With `maintain_indexes`, owners that reach `EXACT_SEARCH_MAX_ROWS` get their HNSW index
    right after; bulk loads pass False and call `index_large_owners` once at the end."""
    oids: dict[str, int] = {}
    with engine.begin() as conn:
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


def _index_is_valid(conn: sa.Connection, name: str) -> bool | None:
    """True/False for a valid/invalid index (an interrupted concurrent build), None if none."""
    return conn.execute(
        sa.text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"),
        {"name": name},
    ).scalar_one_or_none()


def ensure_owner_index(
    engine: sa.Engine,
    owner_id: str,
    model: str,
    dimension: int,
    min_rows: int = EXACT_SEARCH_MAX_ROWS,
) -> bool:
    """Build the owner's partial HNSW index once it has `min_rows` chunks of the model;
    True when the index exists afterwards. Builds concurrently: other writes go on."""
    name = owner_index_name(owner_id, model)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if _index_is_valid(conn, name):
            return True
        count = conn.execute(
            sa.text(
                "SELECT count(*) FROM retrievable_text WHERE owner_id = :owner AND model = :model"
            ),
            {"owner": owner_id, "model": model},
        ).scalar_one()
        if count < min_rows:
            return False
        lock = sa.text("SELECT pg_advisory_lock(hashtext(:name))")
        conn.execute(lock, {"name": name})
        try:
            valid = _index_is_valid(conn, name)
            if valid is False:
                conn.execute(sa.text(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"'))
            if not valid:
                conn.execute(sa.text(f"SET maintenance_work_mem = '{INDEX_BUILD_MEMORY}'"))
                conn.execute(sa.text(_index_ddl(conn, name, owner_id, model, dimension)))
        finally:
            conn.execute(sa.text("RESET maintenance_work_mem"))
            conn.execute(sa.text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": name})
    return True


def _index_ddl(conn: sa.Connection, name: str, owner_id: str, model: str, dimension: int) -> str:
    ops = "halfvec_cosine_ops" if dimension > HNSW_VECTOR_LIMIT else "vector_cosine_ops"
    # Postgres quotes the owner and model itself (format %L): any string is safe here.
    return str(
        conn.execute(
            sa.text(
                "SELECT format('CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON retrievable_text "
                "USING hnsw ((embedding::' || :cast || ') ' || :ops || ') "
                "WHERE owner_id = %L AND model = %L AND dimension = ' || :dimension, "
                ":name, :owner, :model)"
            ),
            {
                "cast": _cast(dimension),
                "ops": ops,
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
    return [owner_index_name(owner, model) for owner, model, _ in groups]


def nearest(
    conn: sa.Connection,
    owner_id: str,
    model: str,
    query_embedding: Sequence[float],
    limit: int,
) -> list[SearchHit]:
    """Nearest chunks by cosine distance among one owner's chunks of one model (exact for
    small owners, the owner's own HNSW graph for large ones)."""
    rows = conn.execute(
        _nearest_statement(len(query_embedding), max(EF_SEARCH, int(limit))),
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
def _nearest_statement(dimension: int, ef_search: int) -> sa.TextClause:
    # One round trip: the SET LOCAL and the query go in one simple-protocol message, and the
    # query vector appears once (ORDER BY its alias still uses the index).
    cast = _cast(dimension)
    return sa.text(
        f"SET LOCAL hnsw.ef_search = {int(ef_search)}; "
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
