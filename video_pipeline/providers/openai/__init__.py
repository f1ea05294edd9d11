"""OpenAI implementations of every provider interface (any OpenAI-compatible server works)."""

from video_pipeline.providers.openai.calls import BudgetHook, Calls, ResponseCache, UsageSink
from video_pipeline.providers.openai.client import ModelNames, OpenAIConnection, RetrySettings
from video_pipeline.providers.openai.content import OpenAIContent
from video_pipeline.providers.openai.embeddings import OpenAIEmbeddings
from video_pipeline.providers.openai.images import OpenAIImages
from video_pipeline.providers.openai.moderation import OpenAIModeration
from video_pipeline.providers.openai.pricing import ModelPrice, PriceTable
from video_pipeline.providers.openai.speech import OpenAISpeech

__all__ = [
    "BudgetHook",
    "Calls",
    "ModelNames",
    "ModelPrice",
    "OpenAIConnection",
    "OpenAIContent",
    "OpenAIEmbeddings",
    "OpenAIImages",
    "OpenAIModeration",
    "OpenAISpeech",
    "PriceTable",
    "ResponseCache",
    "RetrySettings",
    "UsageSink",
]
