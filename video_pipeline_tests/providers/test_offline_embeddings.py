"""The hashing embedder: deterministic, normalised, and lexically meaningful."""

from __future__ import annotations

import math

from video_pipeline.providers.offline.embeddings import HashingEmbeddings


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def test_similar_texts_score_higher_than_unrelated_ones() -> None:
    query, near, far = HashingEmbeddings().embed(
        [
            "the queen bee lays eggs",
            "In peak season the queen can lay up to 2,000 eggs a day.",
            "Langstroth patented his movable-frame hive design in 1852.",
        ]
    )
    assert cosine(query, near) > cosine(query, far) + 0.2
    assert cosine(query, query) == 1.0 or math.isclose(cosine(query, query), 1.0)


def test_vectors_are_deterministic_and_unit_length() -> None:
    provider = HashingEmbeddings()
    first = provider.embed(["Worker bees build hexagonal comb."])[0]
    again = HashingEmbeddings().embed(["worker  BEES build hexagonal comb"])[0]
    assert first == again
    assert len(first) == provider.dimension == 384
    assert math.isclose(math.fsum(v * v for v in first), 1.0)


def test_text_without_words_gives_a_zero_vector() -> None:
    assert HashingEmbeddings().embed(["  ... "])[0] == [0.0] * 384
