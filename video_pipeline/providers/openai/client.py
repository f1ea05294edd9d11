"""How to reach OpenAI (or any OpenAI-compatible server) and which model does each step."""

from __future__ import annotations

import openai
from dagster import Config
from pydantic import ConfigDict, Field

from video_pipeline.config import setting
from video_pipeline.providers.base import ProviderError
from video_pipeline.providers.openai.pricing import PriceTable


class ModelNames(Config):
    """Which model does each step; unknown steps are refused."""

    model_config = ConfigDict(extra="forbid")

    research: str = "gpt-4o-mini"
    dna: str = "gpt-4o-mini"
    script: str = "gpt-4o-mini"
    moderation: str = "omni-moderation-latest"
    embeddings: str = "text-embedding-3-small"
    embedding_dimension: int | None = Field(
        default=None,
        gt=0,
        description="None: the model's native size; must be set for unknown models",
    )
    tts: str = "gpt-4o-mini-tts"
    tts_voice: str = "alloy"
    images: str = "gpt-image-1"
    image_quality: str | None = Field(default="medium", description="None: the server's default")


class RetrySettings(Config):
    """The retry budget of one provider call: bounded attempts of transient failures
    (429, 5xx, timeouts, dropped connections), exponential backoff with jitter, the server's
    Retry-After honoured. A call that still fails is not retried by the step again."""

    max_attempts: int = setting(
        "VIDEO_PIPELINE_OPENAI_MAX_ATTEMPTS",
        5,
        "HTTP attempts per OpenAI call, the first included; the whole retry budget of a call",
        ge=1,
        le=10,
    )
    backoff_base_seconds: float = setting(
        "VIDEO_PIPELINE_OPENAI_BACKOFF_SECONDS",
        5.0,
        "wait after a call's first failed attempt; each next wait doubles, up to 30 s, plus up "
        "to this much jitter (by default 5, 10, 20, 30 s: a provider down for a minute is "
        "waited out)",
        ge=0,
    )
    backoff_max_seconds: float = Field(default=30.0, ge=0)
    max_retry_after_seconds: float = Field(
        default=60.0, ge=0, description="a longer Retry-After is not waited for: the call fails"
    )


class OpenAIConnection(Config):
    """Everything the OpenAI providers need, declared once with its environment variable."""

    api_key: str | None = setting(
        "OPENAI_API_KEY", None, "needed with the openai providers", secret=True
    )
    base_url: str | None = setting(
        "OPENAI_BASE_URL", None, "any OpenAI-compatible server; unset: the official API"
    )
    timeout_seconds: float = setting(
        "OPENAI_TIMEOUT_SECONDS", 60.0, "seconds per OpenAI request", gt=0
    )
    retry: RetrySettings = RetrySettings()
    models: ModelNames = setting(
        "VIDEO_PIPELINE_OPENAI_MODELS",
        ModelNames,
        "JSON object, model per step: "
        + ", ".join(f"`{name}`" for name in ModelNames.model_fields)
        + "; defaults `gpt-4o-mini`, `omni-moderation-latest`, `text-embedding-3-small`, "
        "`gpt-4o-mini-tts`/`alloy`, `gpt-image-1`",
    )
    price_overrides: dict[str, dict[str, float]] = setting(
        "VIDEO_PIPELINE_PRICES",
        dict,
        "JSON price overrides in USD per model, e.g. "
        '`{"gpt-4o-mini": {"input_per_million_tokens": 0.15, "output_per_million_tokens": 0.6}}`',
    )
    max_prompt_chars: int = Field(
        default=200_000, gt=1000, description="source text beyond this is cut from LLM prompts"
    )

    @property
    def prices(self) -> PriceTable:
        return PriceTable.with_overrides(self.price_overrides)

    def client(self) -> openai.OpenAI:
        key = self.api_key or ""
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
