"""pgvector storage: several embedding models side by side, per-owner search, index use."""

from __future__ import annotations

import math
import random

import sqlalchemy as sa

from video_pipeline.models import ProjectSettings
from video_pipeline.storage.projects import create_project
from video_pipeline.storage.vectors import StoredChunk, replace_chunks, search


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


def test_two_models_of_different_dimension_share_the_table_and_search_uses_the_index(
    engine: sa.Engine,
) -> None:
    small_project = new_project(engine, "vectors-a")
    large_project = new_project(engine, "vectors-a")
    other_owner = new_project(engine, "vectors-b")
    small = random_vectors(40, 384, seed=1)
    large = random_vectors(10, 1536, seed=2)
    replace_chunks(
        engine,
        small_project,
        "vectors-a",
        "small-model",
        384,
        [StoredChunk("source", f"source:{i}", i, f"small {i}", v) for i, v in enumerate(small)],
    )
    replace_chunks(
        engine,
        large_project,
        "vectors-a",
        "large-model",
        1536,
        [StoredChunk("script", f"scene:{i}", i, f"large {i}", v) for i, v in enumerate(large)],
    )
    replace_chunks(
        engine,
        other_owner,
        "vectors-b",
        "small-model",
        384,
        [StoredChunk("source", "source:0", 0, "not yours", small[7])],
    )

    hits = search(engine, "vectors-a", "small-model", small[7], limit=3)
    assert hits[0].content == "small 7" and hits[0].distance < 1e-5
    assert all(hit.project_id == small_project for hit in hits)
    large_hits = search(engine, "vectors-a", "large-model", large[3], limit=2)
    assert large_hits[0].content == "large 3"

    literal = "[" + ",".join(str(x) for x in small[7]) + "]"
    with engine.begin() as conn:
        # Forty rows are cheaper to sort than to search; make the planner show that the
        # query's expression and predicate match the partial HNSW index.
        conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
        conn.execute(sa.text("SET LOCAL enable_sort = off"))
        plan = "\n".join(
            conn.execute(
                sa.text(
                    "EXPLAIN SELECT id FROM retrievable_text "
                    "WHERE dimension = 384 AND owner_id = 'vectors-a' AND model = 'small-model' "
                    "ORDER BY (embedding::vector(384)) <=> CAST(:q AS vector(384)) LIMIT 3"
                ),
                {"q": literal},
            ).scalars()
        )
        indexes = set(
            conn.execute(
                sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'retrievable_text'")
            ).scalars()
        )
    assert "ix_retrievable_text_hnsw_384" in plan
    assert {"ix_retrievable_text_hnsw_384", "ix_retrievable_text_hnsw_1536"} <= indexes


def test_replacing_a_projects_chunks_is_idempotent(engine: sa.Engine) -> None:
    project = new_project(engine, "vectors-c")
    chunks = [
        StoredChunk("source", f"source:{i}", i, f"text {i}", v)
        for i, v in enumerate(random_vectors(5, 384, seed=3))
    ]
    for _ in range(3):
        replace_chunks(engine, project, "vectors-c", "small-model", 384, chunks)
    with engine.connect() as conn:
        count = conn.execute(
            sa.text("SELECT count(*) FROM retrievable_text WHERE project_id = :id"), {"id": project}
        ).scalar_one()
    assert count == 5
