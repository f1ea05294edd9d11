"""No search returns another owner's chunk, whatever characters the owner string holds."""

from __future__ import annotations

import sqlalchemy as sa

from video_pipeline.providers.offline.embeddings import HashingEmbeddings
from video_pipeline.storage.search import SearchMode, search_chunks
from video_pipeline.storage.vectors import ensure_owner_index
from video_pipeline_tests.storage.chunks import store_texts

# Pairs that a careless LIKE, quoting or normalisation would confuse.
OWNERS = [
    "o'brien",
    "o''brien",
    "100%",
    "1000",
    "%",
    "a_b",
    "aXb",
    "_",
    "back\\slash",
    "back\\\\slash",
    "'; DELETE FROM retrievable_text; --",
    '"quoted"',
    "Ünïcødé 🎬",
    "Unicode 🎬",
    "  spaced  ",
    "spaced",
]
# Owners whose search runs through a partial HNSW index of their own.
INDEXED = {"o'brien", "100%", "back\\slash", "Ünïcødé 🎬"}
TEXTS = ["bees dance to show where flowers are", "hives keep bees warm", "nectar becomes honey"]


def test_every_mode_returns_only_the_owners_chunks(engine: sa.Engine) -> None:
    embedder = HashingEmbeddings()
    for owner in OWNERS:
        store_texts(engine, owner, [f"{text} [{owner}]" for text in TEXTS])
        if owner in INDEXED:
            assert ensure_owner_index(engine, owner, embedder.model, embedder.dimension, 3)

    query = "bees"
    embedding = embedder.embed([query])[0]
    for owner in OWNERS:
        for mode in SearchMode:
            hits = search_chunks(
                engine, owner, embedder.model, query, embedding, mode, "en", limit=20
            )
            expected = 2 if mode is SearchMode.text else 3
            assert len(hits) == expected, (owner, mode)
            assert all(hit.content.endswith(f"[{owner}]") for hit in hits), (owner, mode)
    for owner in ("o'", "%%", "back", "", "Ünïcødé"):
        assert search_chunks(engine, owner, embedder.model, query, embedding) == []
