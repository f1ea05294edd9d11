"""Feature-hashing embeddings: a real, deterministic, local vector for lexical similarity.

Word unigrams and bigrams (folded, stopwords kept out of unigrams) are hashed with BLAKE2b
into 384 signed buckets, weighted by sublinear term frequency (1 + log tf) and L2-normalised.
Texts that share words score a higher cosine than texts that do not; synonyms do not match.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections import Counter

from video_pipeline.text.words import STOPWORDS, stem, words

DIMENSION = 384
BIGRAM_WEIGHT = 0.5


class HashingEmbeddings:
    """An `EmbeddingProvider` that needs no network and no model files."""

    name = "offline"
    model = "offline-hashing-384"
    dimension = DIMENSION

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [embed_text(text) for text in texts]


def embed_text(text: str) -> list[float]:
    """The L2-normalised hashed vector of one text (all zeros for a text without words)."""
    tokens = [stem(w) for w in words(text)]
    features: Counter[str] = Counter(t for t in tokens if t not in STOPWORDS)
    weights = {f: 1.0 + math.log(n) for f, n in features.items()}
    bigrams = Counter(f"{a} {b}" for a, b in itertools.pairwise(tokens))
    weights.update({f: BIGRAM_WEIGHT * (1.0 + math.log(n)) for f, n in bigrams.items()})
    vector = [0.0] * DIMENSION
    for feature, weight in weights.items():
        digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
        sign = 1.0 if digest >> 63 else -1.0
        vector[digest % DIMENSION] += sign * weight
    norm = math.sqrt(sum(v * v for v in vector))
    return [v / norm for v in vector] if norm else vector
