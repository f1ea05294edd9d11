"""Chunks and their embeddings in pgvector, searchable per owner.

One `vector` column without a fixed dimension holds every model's embeddings. Each
dimension gets a partial HNSW index over a cast of that column, created the first time
the dimension is written; queries use the same cast and predicate, so the planner uses
the index. Dimensions above pgvector's 2,000 limit for `vector` are indexed as `halfvec`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from video_pipeline.storage.tables import retrievable_text

HNSW_VECTOR_LIMIT = 2000


@dataclass(frozen=True)
class StoredChunk:
    kind: str
    ref: str
    ordinal: int
    content: str
    embedding: Sequence[float]


@dataclass(frozen=True)
class SearchHit:
    project_id: str
    kind: str
    ref: str
    content: str
    distance: float


def _cast(dimension: int) -> str:
    vector_type = "halfvec" if dimension > HNSW_VECTOR_LIMIT else "vector"
    return f"{vector_type}({int(dimension)})"


def ensure_index(conn: sa.Connection, dimension: int) -> None:
    ops = "halfvec_cosine_ops" if dimension > HNSW_VECTOR_LIMIT else "vector_cosine_ops"
    conn.execute(
        sa.text(
            f"CREATE INDEX IF NOT EXISTS ix_retrievable_text_hnsw_{int(dimension)} "
            f"ON retrievable_text USING hnsw ((embedding::{_cast(dimension)}) {ops}) "
            f"WHERE dimension = {int(dimension)}"
        )
    )


def replace_chunks(
    engine: sa.Engine,
    project_id: str,
    owner_id: str,
    model: str,
    dimension: int,
    chunks: Sequence[StoredChunk],
) -> int:
    """Replace every chunk of the project in one transaction (idempotent re-runs)."""
    with engine.begin() as conn:
        # Serialise index creation: two projects may write a new dimension at once.
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('retrievable_text_index'))"))
        ensure_index(conn, dimension)
        conn.execute(sa.delete(retrievable_text).where(retrievable_text.c.project_id == project_id))
        if chunks:
            conn.execute(
                sa.insert(retrievable_text),
                [
                    {
                        "project_id": project_id,
                        "owner_id": owner_id,
                        "kind": c.kind,
                        "ref": c.ref,
                        "ordinal": c.ordinal,
                        "content": c.content,
                        "model": model,
                        "dimension": dimension,
                        "embedding": list(c.embedding),
                    }
                    for c in chunks
                ],
            )
    return len(chunks)


def search(
    engine: sa.Engine,
    owner_id: str,
    model: str,
    query_embedding: Sequence[float],
    limit: int = 5,
) -> list[SearchHit]:
    """Nearest chunks by cosine distance among one owner's chunks of one model."""
    dimension = len(query_embedding)
    cast = _cast(dimension)
    statement = sa.text(
        f"SELECT project_id, kind, ref, content, "
        f"(embedding::{cast}) <=> CAST(:query AS {cast}) AS distance "
        f"FROM retrievable_text "
        f"WHERE dimension = {dimension} AND owner_id = :owner AND model = :model "
        f"ORDER BY (embedding::{cast}) <=> CAST(:query AS {cast}) LIMIT :limit"
    )
    literal = "[" + ",".join(repr(float(x)) for x in query_embedding) + "]"
    with engine.begin() as conn:
        # Keep scanning the index until `limit` rows pass the owner filter (pgvector 0.8+).
        conn.execute(sa.text("SET LOCAL hnsw.iterative_scan = strict_order"))
        rows = conn.execute(
            statement, {"query": literal, "owner": owner_id, "model": model, "limit": limit}
        ).all()
    return [SearchHit(str(r.project_id), r.kind, r.ref, r.content, float(r.distance)) for r in rows]


def chunk_counts(engine: sa.Engine, project_id: str) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(retrievable_text.c.kind, sa.func.count())
            .where(retrievable_text.c.project_id == project_id)
            .group_by(retrievable_text.c.kind)
        ).all()
    return {kind: int(count) for kind, count in rows}
