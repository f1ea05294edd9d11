"""pgvector storage: COPY ingestion, models side by side, per-owner indexes, exact results."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import sqlalchemy as sa

from video_pipeline.models import ProjectSettings
from video_pipeline.storage.projects import create_project
from video_pipeline.storage.vectors import (
    INDEX_PREFIX,
    ProjectChunks,
    StoredChunk,
    ensure_owner_index,
    owner_index_name,
    replace_chunks,
    replace_projects,
    search,
    vector_literal,
)


def unit(vector: list[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector]


def random_vectors(count: int, dimension: int, seed: int) -> list[list[float]]:
    rng = random.Random(seed)
    return [unit([rng.gauss(0, 1) for _ in range(dimension)]) for _ in range(count)]


def new_project(engine: sa.Engine, owner: str) -> str:
    return create_project(
        engine, owner_id=owner, title="t", brief="b", settings=ProjectSettings(), sources=[]
    )


def chunks_of(vectors: list[list[float]], prefix: str) -> list[StoredChunk]:
    return [
        StoredChunk("source", f"source:{i}", i, f"{prefix} {i}", v) for i, v in enumerate(vectors)
    ]


def plan(engine: sa.Engine, owner: str, model: str, query: list[float], force: bool = False) -> str:
    """The query plan of a vector search; `force` makes sorting every row look expensive, to
    show that an index matches the query even where sorting 300 rows would be cheaper."""
    dimension = len(query)
    with engine.begin() as conn:
        if force:
            conn.execute(sa.text("SET LOCAL enable_sort = off"))
            conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        return "\n".join(
            conn.execute(
                sa.text(
                    f"EXPLAIN SELECT id FROM retrievable_text "
                    f"WHERE owner_id = :owner AND model = :model AND dimension = {dimension} "
                    f"ORDER BY (embedding::vector({dimension})) <=> "
                    f"CAST(:q AS vector({dimension})) LIMIT 5"
                ),
                {"owner": owner, "model": model, "q": vector_literal(query)},
            ).scalars()
        )


def test_two_models_of_different_dimension_for_one_owner_are_searched_apart(
    engine: sa.Engine,
) -> None:
    small_project = new_project(engine, "vectors-a")
    large_project = new_project(engine, "vectors-a")
    other_owner = new_project(engine, "vectors-b")
    small = random_vectors(40, 384, seed=1)
    large = random_vectors(10, 1536, seed=2)
    replace_chunks(
        engine, small_project, "vectors-a", "small-model", 384, chunks_of(small, "small")
    )
    replace_chunks(
        engine, large_project, "vectors-a", "large-model", 1536, chunks_of(large, "large")
    )
    replace_chunks(
        engine, other_owner, "vectors-b", "small-model", 384, chunks_of([small[7]], "not yours")
    )

    hits = search(engine, "vectors-a", "small-model", small[7], limit=3)
    assert hits[0].content == "small 7" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert all(hit.project_id == small_project for hit in hits)
    large_hits = search(engine, "vectors-a", "large-model", large[3], limit=20)
    assert large_hits[0].content == "large 3"
    # The 1536-d model's ranking holds only its own chunks, never the 384-d ones.
    assert {hit.project_id for hit in large_hits} == {large_project} and len(large_hits) == 10
    assert search(engine, "vectors-a", "large-model", small[7], limit=3) == []


def test_small_owners_are_searched_exactly_and_large_owners_get_their_own_index(
    engine: sa.Engine,
) -> None:
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(300, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    project = new_project(engine, "vectors-big")
    replace_projects(
        engine,
        [
            ProjectChunks(
                project,
                "vectors-big",
                "m",
                384,
                [StoredChunk("source", f"s:{i}", i, f"chunk {i}", ()) for i in range(300)],
                vectors=vectors,
            )
        ],
    )
    query = vectors[11] + 0.5 * vectors[12]
    query_list = [float(x) for x in query / np.linalg.norm(query)]
    exact = [f"chunk {i}" for i in np.argsort(-(vectors @ np.asarray(query_list)))[:5]]

    assert INDEX_PREFIX not in plan(engine, "vectors-big", "m", query_list, force=True)
    assert [h.content for h in search(engine, "vectors-big", "m", query_list, limit=5)] == exact

    assert not ensure_owner_index(engine, "vectors-big", "m", 384, min_rows=301)
    assert ensure_owner_index(engine, "vectors-big", "m", 384, min_rows=300)
    index = owner_index_name("vectors-big", "m")
    assert index in plan(engine, "vectors-big", "m", query_list, force=True)
    # Another owner's query cannot use it: the index predicate names its owner.
    assert index not in plan(engine, "vectors-a", "m", query_list, force=True)
    assert [h.content for h in search(engine, "vectors-big", "m", query_list, limit=5)] == exact
    # Rows written after the build go into the owner's graph too.
    extra = new_project(engine, "vectors-big")
    replace_chunks(
        engine, extra, "vectors-big", "m", 384, [StoredChunk("x", "x", 0, "new", query_list)]
    )
    assert search(engine, "vectors-big", "m", query_list, limit=1)[0].content == "new"


def test_copy_stores_vectors_text_and_language_exactly_and_replacing_is_idempotent(
    engine: sa.Engine,
) -> None:
    project = new_project(engine, "vectors-c")
    vectors = random_vectors(5, 384, seed=3)
    chunks = [
        StoredChunk("source", f"source:{i}", i, f"Häuser und Gärten {i}\x00!", v)
        for i, v in enumerate(vectors)
    ]
    for _ in range(3):
        assert replace_chunks(engine, project, "vectors-c", "small-model", 384, chunks, "de") == 5
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT ordinal, content, text_config::text AS config, tsv::text AS tsv, "
                "embedding::text AS embedding FROM retrievable_text "
                "WHERE project_id = :id ORDER BY ordinal"
            ),
            {"id": project},
        ).all()
    assert len(rows) == 5
    assert rows[2].content == "Häuser und Gärten 2!"
    assert rows[2].config == "german" and "'haus'" in rows[2].tsv and "'und'" not in rows[2].tsv
    stored = np.array(rows[4].embedding.strip("[]").split(","), dtype=np.float32)
    assert (stored == np.array(vectors[4], dtype=np.float32)).all()


@pytest.mark.parametrize(
    ("embeddings", "message"),
    [
        ([[0.1] * 383], r"expected \(n, 384\)"),
        ([[float("nan")] * 384], "NaN"),
    ],
)
def test_bad_vectors_are_refused_before_anything_is_written(
    engine: sa.Engine, embeddings: list[list[float]], message: str
) -> None:
    owner = f"vectors-d-{message[:3]}"
    project = new_project(engine, owner)
    good = StoredChunk("source", "s:0", 0, "kept", random_vectors(1, 384, seed=4)[0])
    replace_chunks(engine, project, owner, "m", 384, [good])
    with pytest.raises(ValueError, match=message):
        replace_chunks(
            engine,
            project,
            owner,
            "m",
            384,
            [StoredChunk("source", "s:0", 0, "x", embeddings[0])],
        )
    assert [h.content for h in search(engine, owner, "m", good.embedding, limit=5)] == ["kept"]
