"""Safety scores from OpenAI's moderation endpoint, folded onto our categories."""

from __future__ import annotations

import json

from video_pipeline.providers.base import ModerationScores
from video_pipeline.providers.openai.batching import batches, split_text
from video_pipeline.providers.openai.calls import Call, Calls, Metered, OpenAIProvider

CATEGORIES = ("harassment", "hate", "illicit", "self_harm", "sexual", "violence")
_EXCERPT_CHARS = 160


def our_category(openai_category: str) -> str:
    """OpenAI's sub-categories fold into their parent, so none is lost:
    `self-harm/intent` -> `self_harm`, `sexual/minors` -> `sexual`."""
    return openai_category.split("/")[0].replace("-", "_")


class OpenAIModeration(OpenAIProvider):
    def __init__(
        self, calls: Calls, *, batch_size: int = 32, max_chars_per_input: int = 8000
    ) -> None:
        super().__init__(calls)
        self._model = self._connection.models.moderation
        self._batch_size = batch_size
        self._max_chars = max_chars_per_input

    def moderate(self, texts: list[str]) -> ModerationScores:
        scores = dict.fromkeys(CATEGORIES, 0.0)
        evidence: dict[str, list[str]] = {category: [] for category in CATEGORIES}
        pieces = [piece for text in texts for piece in split_text(text, self._max_chars)]
        for batch in batches(pieces, self._batch_size):
            for piece, result in zip(batch, self._moderate_batch(list(batch)), strict=True):
                for name, score in result["scores"].items():
                    if score is None:
                        continue
                    category = our_category(name)
                    scores[category] = max(scores.get(category, 0.0), float(score))
                    if result["flags"].get(name):
                        excerpt = piece[:_EXCERPT_CHARS]
                        found = evidence.setdefault(category, [])
                        if excerpt not in found:
                            found.append(excerpt)
        return ModerationScores(scores=scores, evidence=evidence)

    def _moderate_batch(self, batch: list[str]) -> list[dict[str, dict[str, float | None]]]:
        request = {"model": self._model, "input": batch}
        characters = sum(len(text) for text in batch)
        prices = self._calls.connection.prices

        def send() -> Metered:
            response = self._calls.client.moderations.create(model=self._model, input=batch)
            results = [
                {
                    "scores": result.category_scores.model_dump(by_alias=True),
                    "flags": result.categories.model_dump(by_alias=True),
                }
                for result in response.results
            ]
            return Metered(json.dumps(results), characters, 0, "characters")

        call = Call(
            "moderation",
            self._model,
            request,
            prices.cost(self._model, characters, 0, "characters"),
        )
        return self._calls.run(call, send, json.loads)
