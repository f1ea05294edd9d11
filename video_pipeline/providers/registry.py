"""Choosing the implementation of every capability: the only place that knows both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from dagster import Config

from video_pipeline.config import setting
from video_pipeline.providers.base import EmbeddingProvider, Providers, UsageRecord
from video_pipeline.providers.openai.calls import ResponseCache
from video_pipeline.providers.openai.client import OpenAIConnection

UsageSink = Callable[[UsageRecord], None]
BudgetHook = Callable[[float], None]

# espeak-ng's own default speaking rate, used when no style profile sets one.
DEFAULT_SPEECH_WPM = 165.0


class ProviderSettings(Config):
    """Which implementation serves every capability, and how to reach OpenAI."""

    kind: Literal["offline", "openai"] = setting(
        "VIDEO_PIPELINE_PROVIDER",
        "offline",
        "`offline` (no network, the embedded default) or `openai`",
    )
    openai: OpenAIConnection = OpenAIConnection()


def _discard(_: UsageRecord) -> None:
    return None


def build_providers(
    settings: ProviderSettings,
    *,
    speech_words_per_minute: float | None = None,
    usage_sink: UsageSink = _discard,
    cache: ResponseCache | None = None,
    budget: BudgetHook | None = None,
) -> Providers:
    if settings.kind == "openai":
        return _openai_providers(settings.openai, usage_sink, cache, budget)
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
        speech=EspeakSpeech(rate_wpm=speech_words_per_minute or DEFAULT_SPEECH_WPM),
        images=TitleCardImages(),
    )
    return metered(offline, usage_sink)


def build_embedder(settings: ProviderSettings) -> EmbeddingProvider:
    """The embedder alone, e.g. to embed a search query with the model the chunks used."""
    return build_providers(settings).embeddings


def _openai_providers(
    connection: OpenAIConnection,
    usage_sink: UsageSink,
    cache: ResponseCache | None,
    budget: BudgetHook | None,
) -> Providers:
    from video_pipeline.providers.openai.calls import Calls
    from video_pipeline.providers.openai.content import OpenAIContent
    from video_pipeline.providers.openai.embeddings import OpenAIEmbeddings
    from video_pipeline.providers.openai.images import OpenAIImages
    from video_pipeline.providers.openai.moderation import OpenAIModeration
    from video_pipeline.providers.openai.speech import OpenAISpeech

    calls = Calls(connection, usage_sink=usage_sink, cache=cache, budget=budget)
    return Providers(
        content=OpenAIContent(calls),
        moderation=OpenAIModeration(calls),
        embeddings=OpenAIEmbeddings(calls),
        speech=OpenAISpeech(calls),
        images=OpenAIImages(calls),
    )
