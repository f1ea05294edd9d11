"""Choosing the implementation of every capability: the only place that knows both."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import SecretStr

from video_pipeline.providers.base import EmbeddingProvider, Providers, UsageRecord
from video_pipeline.providers.openai.calls import ResponseCache
from video_pipeline.settings import Settings

UsageSink = Callable[[UsageRecord], None]
BudgetHook = Callable[[float], None]

# espeak-ng's own default speaking rate, used when no style profile sets one.
DEFAULT_SPEECH_WPM = 165.0


@dataclass(frozen=True)
class ProviderOptions:
    kind: str = "offline"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_timeout_seconds: float = 60.0
    openai_models_json: str = "{}"
    openai_prices_json: str = "{}"
    speech_words_per_minute: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ProviderOptions:
        return cls(
            kind=settings.provider,
            openai_api_key=settings.openai_api_key,
            openai_base_url=settings.openai_base_url,
            openai_timeout_seconds=settings.openai_timeout_seconds,
            openai_models_json=json.dumps(settings.openai_models),
            openai_prices_json=json.dumps(settings.openai_prices),
        )


def _discard(_: UsageRecord) -> None:
    return None


def build_providers(
    options: ProviderOptions,
    usage_sink: UsageSink = _discard,
    cache: ResponseCache | None = None,
    budget: BudgetHook | None = None,
) -> Providers:
    if options.kind == "openai":
        return _openai_providers(options, usage_sink, cache, budget)
    if options.kind != "offline":
        raise ValueError(
            f"VIDEO_PIPELINE_PROVIDER={options.kind!r} is not known: use 'offline' or 'openai'"
        )
    from video_pipeline.providers.offline.content import OfflineContent
    from video_pipeline.providers.offline.embeddings import HashingEmbeddings
    from video_pipeline.providers.offline.images import TitleCardImages
    from video_pipeline.providers.offline.metering import metered
    from video_pipeline.providers.offline.moderation import LexiconModeration
    from video_pipeline.providers.offline.speech import EspeakSpeech

    offline = Providers(
        content=OfflineContent(),
        moderation=LexiconModeration(),
        embeddings=HashingEmbeddings(),
        speech=EspeakSpeech(rate_wpm=options.speech_words_per_minute or DEFAULT_SPEECH_WPM),
        images=TitleCardImages(),
    )
    return metered(offline, usage_sink)


def build_embedder(options: ProviderOptions) -> EmbeddingProvider:
    """The embedder alone, e.g. to embed a search query with the model the chunks used."""
    return build_providers(options).embeddings


def _openai_providers(
    options: ProviderOptions,
    usage_sink: UsageSink,
    cache: ResponseCache | None,
    budget: BudgetHook | None,
) -> Providers:
    from video_pipeline.providers.openai.calls import Calls
    from video_pipeline.providers.openai.client import ModelNames, OpenAIConnection
    from video_pipeline.providers.openai.content import OpenAIContent
    from video_pipeline.providers.openai.embeddings import OpenAIEmbeddings
    from video_pipeline.providers.openai.images import OpenAIImages
    from video_pipeline.providers.openai.moderation import OpenAIModeration
    from video_pipeline.providers.openai.pricing import PriceTable
    from video_pipeline.providers.openai.speech import OpenAISpeech

    models = json.loads(options.openai_models_json)
    unknown = sorted(set(models) - set(ModelNames.model_fields))
    if unknown:
        raise ValueError(
            f"VIDEO_PIPELINE_OPENAI_MODELS names unknown steps {unknown}; known steps: "
            + ", ".join(ModelNames.model_fields)
        )
    connection = OpenAIConnection(
        api_key=SecretStr(options.openai_api_key or ""),
        base_url=options.openai_base_url,
        timeout_seconds=options.openai_timeout_seconds,
        models=ModelNames.model_validate(models),
        prices=PriceTable.with_overrides(json.loads(options.openai_prices_json)),
    )
    calls = Calls(connection, usage_sink=usage_sink, cache=cache, budget=budget)
    return Providers(
        content=OpenAIContent(calls),
        moderation=OpenAIModeration(calls),
        embeddings=OpenAIEmbeddings(calls),
        speech=OpenAISpeech(calls),
        images=OpenAIImages(calls),
    )
