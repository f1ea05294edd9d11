"""How to reach OpenAI (or any OpenAI-compatible server) and which model does each step."""

from __future__ import annotations

import openai
from pydantic import BaseModel, Field, SecretStr

from video_pipeline.providers.base import ProviderError
from video_pipeline.providers.openai.pricing import PriceTable


class ModelNames(BaseModel):
    research: str = "gpt-4o-mini"
    dna: str = "gpt-4o-mini"
    script: str = "gpt-4o-mini"
    moderation: str = "omni-moderation-latest"
    embeddings: str = "text-embedding-3-small"
    embedding_dimension: int | None = Field(
        None, gt=0, description="None: the model's native size; must be set for unknown models"
    )
    tts: str = "gpt-4o-mini-tts"
    tts_voice: str = "alloy"
    images: str = "gpt-image-1"
    image_quality: str | None = Field("medium", description="None: the server's default")


class RetrySettings(BaseModel):
    """Bounded retries of transient failures, exponential backoff with jitter."""

    max_attempts: int = Field(4, ge=1)
    backoff_base_seconds: float = Field(1.0, ge=0)
    backoff_max_seconds: float = Field(30.0, ge=0)
    max_retry_after_seconds: float = Field(
        60.0, ge=0, description="a longer Retry-After is not waited for: the call fails"
    )


class OpenAIConnection(BaseModel):
    """Everything the OpenAI providers need; built from settings, never from the environment."""

    api_key: SecretStr
    base_url: str | None = Field(None, description="None: the official API")
    timeout_seconds: float = Field(120.0, gt=0)
    retry: RetrySettings = RetrySettings()
    models: ModelNames = ModelNames()
    prices: PriceTable = Field(default_factory=PriceTable)
    max_prompt_chars: int = Field(
        200_000, gt=1000, description="source text beyond this is cut from LLM prompts"
    )

    def client(self) -> openai.OpenAI:
        key = self.api_key.get_secret_value()
        if not key.strip():
            raise ProviderError(
                "OpenAI providers are selected but no API key is set: set OPENAI_API_KEY, "
                "or choose the offline providers."
            )
        # Retries are ours (see calls.py), so the SDK's own are off.
        return openai.OpenAI(
            api_key=key, base_url=self.base_url, timeout=self.timeout_seconds, max_retries=0
        )

    @property
    def server(self) -> str:
        return self.base_url or "https://api.openai.com/v1"
