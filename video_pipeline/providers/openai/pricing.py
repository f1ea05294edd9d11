"""What each OpenAI model costs, so every call's UsageRecord carries a price."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field

Unit = Literal["tokens", "characters", "images"]


class ModelPrice(BaseModel):
    """USD prices of one model; only the fields that apply to it are non-zero."""

    input_per_million_tokens: float = Field(0.0, ge=0)
    output_per_million_tokens: float = Field(0.0, ge=0)
    per_million_characters: float = Field(0.0, ge=0)
    per_image: float = Field(0.0, ge=0)


DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o-mini": ModelPrice(input_per_million_tokens=0.15, output_per_million_tokens=0.60),
    "gpt-4o": ModelPrice(input_per_million_tokens=2.50, output_per_million_tokens=10.00),
    "gpt-4.1-nano": ModelPrice(input_per_million_tokens=0.10, output_per_million_tokens=0.40),
    "gpt-4.1-mini": ModelPrice(input_per_million_tokens=0.40, output_per_million_tokens=1.60),
    "gpt-4.1": ModelPrice(input_per_million_tokens=2.00, output_per_million_tokens=8.00),
    "omni-moderation-latest": ModelPrice(),
    "text-embedding-3-small": ModelPrice(input_per_million_tokens=0.02),
    "text-embedding-3-large": ModelPrice(input_per_million_tokens=0.13),
    "text-embedding-ada-002": ModelPrice(input_per_million_tokens=0.10),
    # gpt-4o-mini-tts bills audio tokens; about $0.015 per minute of speech, which at
    # ~900 characters a minute is close to tts-1's per-character price.
    "gpt-4o-mini-tts": ModelPrice(per_million_characters=15.0),
    "tts-1": ModelPrice(per_million_characters=15.0),
    "tts-1-hd": ModelPrice(per_million_characters=30.0),
    "gpt-image-1": ModelPrice(per_image=0.063),
    "dall-e-3": ModelPrice(per_image=0.08),
    "dall-e-2": ModelPrice(per_image=0.02),
}


class PriceTable(BaseModel):
    """Prices per model name. A model it does not know (e.g. a local server's) costs 0."""

    models: dict[str, ModelPrice] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, Mapping[str, float]]) -> PriceTable:
        """Defaults, with the fields given per model replaced, e.g.
        `{"gpt-4o-mini": {"input_per_million_tokens": 0.2}}`."""
        models = dict(DEFAULT_PRICES)
        for name, fields in overrides.items():
            base = models.get(name, ModelPrice()).model_dump()
            models[name] = ModelPrice.model_validate({**base, **fields})
        return cls(models=models)

    def price(self, model: str) -> ModelPrice:
        return self.models.get(model, ModelPrice())

    def cost(self, model: str, input_units: int, output_units: int, unit: Unit) -> float:
        price = self.price(model)
        if unit == "tokens":
            return (
                input_units * price.input_per_million_tokens
                + output_units * price.output_per_million_tokens
            ) / 1_000_000
        if unit == "characters":
            return input_units * price.per_million_characters / 1_000_000
        return output_units * price.per_image


def estimate_tokens(text: str) -> int:
    """About four characters a token for English: enough to check a budget before a call."""
    return len(text) // 4 + 1
