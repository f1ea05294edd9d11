"""The search the CLI runs: vector, full text, or both fused by reciprocal rank fusion.

Hybrid search exists for the words embeddings blur: a product code, a name, a number inside a
long chunk rarely decides its vector, while full text finds it exactly. RRF needs no score
calibration between the two rankings: each chunk scores sum(1 / (RRF_K + rank)).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from enum import StrEnum

import sqlalchemy as sa

from video_pipeline.storage.fulltext import text_matches
from video_pipeline.storage.hits import SearchHit
from video_pipeline.storage.vectors import nearest

# The constant of Cormack et al. (2009); it damps the weight of the very first ranks.
RRF_K = 60
# Each ranking contributes this many candidates per requested hit (at least MIN_CANDIDATES).
CANDIDATES_PER_HIT = 4
MIN_CANDIDATES = 20
# Hybrid search runs its text ranking on another connection while the vector ranking runs, so
# its latency is the slower of the two rather than their sum.
_HYBRID_TEXT_SIDE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hybrid-text")


class SearchMode(StrEnum):
    vector = "vector"
    text = "text"
    hybrid = "hybrid"


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[SearchHit]], limit: int, k: int = RRF_K
) -> list[SearchHit]:
    scores: dict[int, float] = {}
    hits: dict[int, SearchHit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.chunk_id] = scores.get(hit.chunk_id, 0.0) + 1.0 / (k + rank)
            hits.setdefault(hit.chunk_id, hit)
    order = sorted(scores, key=lambda chunk_id: (-scores[chunk_id], chunk_id))
    return [replace(hits[chunk_id], score=scores[chunk_id]) for chunk_id in order[:limit]]


def search_chunks(
    engine: sa.Engine,
    owner_id: str,
    model: str,
    query: str,
    query_embedding: Sequence[float] | None,
    mode: SearchMode = SearchMode.hybrid,
    language: str = "en",
    limit: int = 5,
) -> list[SearchHit]:
    """One owner's chunks of one embedding model that best match the query.

    `query_embedding` (the query embedded by `model`) is needed unless mode is text."""
    if mode is not SearchMode.text and query_embedding is None:
        raise ValueError(f"{mode.value} search needs the query embedded by {model}")
    if mode is SearchMode.text:
        return _text_ranking(engine, owner_id, model, query, language, limit)
    assert query_embedding is not None
    if mode is SearchMode.vector:
        return _vector_ranking(engine, owner_id, model, query_embedding, limit)
    candidates = max(MIN_CANDIDATES, CANDIDATES_PER_HIT * limit)
    text_side = _HYBRID_TEXT_SIDE.submit(
        _text_ranking, engine, owner_id, model, query, language, candidates
    )
    vector_side = _vector_ranking(engine, owner_id, model, query_embedding, candidates)
    return reciprocal_rank_fusion([vector_side, text_side.result()], limit)


def _text_ranking(
    engine: sa.Engine, owner_id: str, model: str, query: str, language: str, limit: int
) -> list[SearchHit]:
    with engine.begin() as conn:
        return text_matches(conn, owner_id, model, query, language, limit)


def _vector_ranking(
    engine: sa.Engine, owner_id: str, model: str, embedding: Sequence[float], limit: int
) -> list[SearchHit]:
    with engine.begin() as conn:
        return nearest(conn, owner_id, model, embedding, limit)
