"""Text embeddings, batched, in input order."""

from __future__ import annotations

import json
from typing import Any

from video_pipeline.providers.base import ProviderError
from video_pipeline.providers.openai.batching import batches
from video_pipeline.providers.openai.calls import Call, Calls, Metered, OpenAIProvider
from video_pipeline.providers.openai.pricing import estimate_tokens

NATIVE_DIMENSIONS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
# Only the text-embedding-3 models can return shortened vectors (`dimensions`).
_SHORTENABLE = ("text-embedding-3-small", "text-embedding-3-large")


class OpenAIEmbeddings(OpenAIProvider):
    def __init__(self, calls: Calls, *, batch_size: int = 256) -> None:
        super().__init__(calls)
        self.model = self._connection.models.embeddings
        native = NATIVE_DIMENSIONS.get(self.model)
        dimension = self._connection.models.embedding_dimension or native
        if dimension is None:
            raise ProviderError(
                f"the size of {self.model!r} embeddings is not known; set the embedding "
                "dimension in the OpenAI settings."
            )
        if native is not None and dimension != native and self.model not in _SHORTENABLE:
            raise ProviderError(
                f"{self.model} only returns {native}-dimensional vectors; remove the "
                "embedding dimension setting or choose a text-embedding-3 model."
            )
        self.dimension = dimension
        self._shortened = native is not None and self.dimension != native
        self._batch_size = batch_size

    def embed(self, texts: list[str]) -> list[list[float]]:
        empty = [index for index, text in enumerate(texts) if not text.strip()]
        if empty:
            raise ProviderError(f"cannot embed empty texts (positions {empty[:5]}); drop them.")
        vectors: list[list[float]] = []
        for batch in batches(texts, self._batch_size):
            vectors.extend(self._embed_batch(list(batch)))
        return vectors

    def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        request: dict[str, Any] = {
            "model": self.model,
            "input": batch,
            "encoding_format": "float",
        }
        if self._shortened:
            request["dimensions"] = self.dimension
        estimated = self._calls.connection.prices.cost(
            self.model, sum(estimate_tokens(text) for text in batch), 0, "tokens"
        )

        def send() -> Metered:
            response = self._calls.client.embeddings.create(**request)
            ordered = sorted(response.data, key=lambda item: item.index)
            vectors = [item.embedding for item in ordered]
            return Metered(json.dumps(vectors), response.usage.prompt_tokens, 0, "tokens")

        def parse(value: str) -> list[list[float]]:
            vectors: list[list[float]] = json.loads(value)
            if len(vectors) != len(batch) or any(len(v) != self.dimension for v in vectors):
                raise ProviderError(
                    f"{self.model} returned {len(vectors)} vectors of "
                    f"{sorted({len(v) for v in vectors})} dimensions for {len(batch)} texts, "
                    f"expected {self.dimension}; check the embedding model and dimension settings."
                )
            return vectors

        return self._calls.run(Call("embeddings", self.model, request, estimated), send, parse)
