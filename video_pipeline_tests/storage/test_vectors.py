"""pgvector storage: COPY ingestion, models side by side, per-owner indexes, exact results."""

from __future__ import annotations

import concurrent.futures
import math
import random
import re
import time

import numpy as np
import pytest
import sqlalchemy as sa

from video_pipeline.models import ProjectSettings
from video_pipeline.storage import vectors
from video_pipeline.storage.projects import create_project
from video_pipeline.storage.search import SearchMode, search_chunks
from video_pipeline.storage.vectors import (
    INDEX_PREFIX,
    ProjectChunks,
    StoredChunk,
    ensure_owner_index,
    owner_index_prefix,
    replace_chunks,
    replace_projects,
    search,
    vector_literal,
)
from video_pipeline_tests.storage.chunks import partition_of


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
    prefix = owner_index_prefix("vectors-big", "m")
    assert f"{prefix}10" in plan(engine, "vectors-big", "m", query_list, force=True)
    # Another owner's query cannot use it: the index predicate names its owner.
    assert prefix not in plan(engine, "vectors-a", "m", query_list, force=True)
    # Approximate now: the nearest chunk still comes first.
    hits = search(engine, "vectors-big", "m", query_list, limit=5)
    assert hits[0].content == exact[0] and len(hits) == 5
    # Rows written after the build go into the owner's lists too.
    extra = new_project(engine, "vectors-big")
    replace_chunks(
        engine, extra, "vectors-big", "m", 384, [StoredChunk("x", "x", 0, "new", query_list)]
    )
    assert search(engine, "vectors-big", "m", query_list, limit=1)[0].content == "new"


def test_a_search_plans_only_the_partition_that_holds_its_owner(engine: sa.Engine) -> None:
    owners = [f"vectors-partition-{i}" for i in range(6)]
    for seed, owner in enumerate(owners):
        replace_chunks(
            engine,
            new_project(engine, owner),
            owner,
            "m",
            384,
            chunks_of(random_vectors(12, 384, seed=40 + seed), owner),
        )
    query = random_vectors(1, 384, seed=50)[0]
    partitions = {owner: partition_of(engine, owner) for owner in owners}
    assert len(set(partitions.values())) > 1  # the owners are spread over partitions
    for owner, partition in partitions.items():
        scanned = set(re.findall(r" on (retrievable_text_p\d+)", plan(engine, owner, "m", query)))
        assert scanned == {partition}
        hits = search(engine, owner, "m", query, limit=20)
        assert len(hits) == 12 and {h.content.rsplit(" ", 1)[0] for h in hits} == {owner}


def test_an_owner_that_grew_fourfold_gets_an_index_with_more_lists(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors, "ROWS_PER_LIST", 10)
    project = new_project(engine, "vectors-growing")
    first = random_vectors(200, 384, seed=8)
    replace_chunks(engine, project, "vectors-growing", "m", 384, chunks_of(first, "a"))
    assert ensure_owner_index(engine, "vectors-growing", "m", 384, min_rows=200)
    prefix = owner_index_prefix("vectors-growing", "m")

    def indexes() -> set[str]:
        """The owner's indexes on the partition that holds its rows."""
        with engine.connect() as conn:
            names = conn.execute(
                sa.text("SELECT indexname FROM pg_indexes WHERE tablename = :partition"),
                {"partition": partition_of(engine, "vectors-growing")},
            ).scalars()
            return {name for name in names if name.startswith(prefix)}

    assert indexes() == {f"{prefix}20"}
    more = new_project(engine, "vectors-growing")
    replace_chunks(engine, more, "vectors-growing", "m", 384, chunks_of(first * 3, "b"))
    assert indexes() == {f"{prefix}20"}  # 800 rows want 80 lists: within 4x of 20
    grown = new_project(engine, "vectors-growing")
    replace_chunks(engine, grown, "vectors-growing", "m", 384, chunks_of(first[:10], "c"))
    assert indexes() == {f"{prefix}81"}
    hits = search(engine, "vectors-growing", "m", first[3], limit=3)
    assert first[3] and hits[0].score == pytest.approx(1.0, abs=1e-5)


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


def test_a_chunk_row_stays_whole_and_uncompressed_and_larger_rows_still_fit(
    engine: sa.Engine,
) -> None:
    """Text search ranks every matching row: a typical chunk (650 characters, 384-d) keeps its
    text and tsvector in the heap row, uncompressed. A 3,072-d chunk of 5,400 characters is
    larger than a page; it is stored all the same, its large values moved out of line."""
    project, other = new_project(engine, "vectors-layout"), new_project(engine, "vectors-layout")
    words = " ".join(f"word{i} topic{i % 7}" for i in range(60))[:650]
    replace_chunks(
        engine,
        project,
        "vectors-layout",
        "small",
        384,
        [StoredChunk("source", "s:0", 0, words, random_vectors(1, 384, seed=5)[0])],
    )
    long_text = " ".join(f"lexeme{i}" for i in range(550))
    replace_chunks(
        engine,
        other,
        "vectors-layout",
        "large",
        3072,
        [StoredChunk("source", "s:0", 0, long_text, random_vectors(1, 3072, seed=6)[0])],
    )
    with engine.connect() as conn:
        rows = {
            r.model: r
            for r in conn.execute(
                sa.text(
                    "SELECT model, pg_column_compression(tsv) AS tsv_compression, "
                    "pg_column_compression(content) AS content_compression, "
                    "pg_column_size(tsv) AS tsv_size, length(tsv) AS lexemes, "
                    "length(content) AS characters, vector_dims(embedding) AS dims "
                    "FROM retrievable_text WHERE project_id IN (:a, :b)"
                ),
                {"a": project, "b": other},
            )
        }
    small, large = rows["small"], rows["large"]
    assert small.tsv_compression is None and small.content_compression is None
    assert small.tsv_size > 500 and small.lexemes > 40
    assert (large.dims, large.characters, large.lexemes) == (3072, len(long_text), 550)
    hits = search_chunks(engine, "vectors-layout", "large", "lexeme549", None, SearchMode.text)
    assert [h.content for h in hits] == [long_text]


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


def test_two_writes_of_one_project_at_once_leave_one_set_of_chunks(engine: sa.Engine) -> None:
    """A second replace that starts while the first is writing must not add its rows to the
    first's: it waits, then deletes what the first wrote (a run launched beside a queued one
    by `dagster asset materialize` can do this)."""
    project = new_project(engine, "vectors-race")
    first = chunks_of(random_vectors(4, 384, seed=11), "first")
    second = chunks_of(random_vectors(3, 384, seed=12), "second")
    replace_chunks(engine, project, "vectors-race", "small-model", 384, first)

    def waiting() -> int:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE wait_event_type = 'Lock' AND query ILIKE ANY "
                        "(ARRAY['%retrievable_text%', '%advisory%'])"
                    )
                ).scalar_one()
            )

    with concurrent.futures.ThreadPoolExecutor(2) as pool, engine.connect() as holder:
        # Holding the project's row stops the first write at its COPY (the foreign key check),
        # after it has deleted the rows before it.
        holder.execute(sa.text("SELECT 1 FROM projects WHERE id = :id FOR UPDATE"), {"id": project})
        writes = [
            pool.submit(replace_chunks, engine, project, "vectors-race", "small-model", 384, first)
        ]
        deadline = time.monotonic() + 30
        while waiting() < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        writes.append(
            pool.submit(replace_chunks, engine, project, "vectors-race", "small-model", 384, second)
        )
        while waiting() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert waiting() == 2
        holder.commit()
        assert [w.result(timeout=60) for w in writes] == [4, 3]
    with engine.connect() as conn:
        contents = conn.execute(
            sa.text("SELECT content FROM retrievable_text WHERE project_id = :id ORDER BY ordinal"),
            {"id": project},
        ).scalars()
        assert list(contents) == ["second 0", "second 1", "second 2"]
