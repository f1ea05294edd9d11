"""A fake OpenAI server per test, and `Calls` to it through the real client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from video_pipeline.providers.base import UsageRecord
from video_pipeline.providers.openai import (
    BudgetHook,
    Calls,
    OpenAIConnection,
    ResponseCache,
    RetrySettings,
)
from video_pipeline_tests.fake_openai import FakeOpenAI


class MemoryCache:
    """The ResponseCache protocol over a dict."""

    def __init__(self) -> None:
        self.entries: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.entries.get(key)

    def put(self, key: str, value: str) -> None:
        self.entries[key] = value


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture
def usage() -> list[UsageRecord]:
    return []


@pytest.fixture
def calls(fake_openai: FakeOpenAI, usage: list[UsageRecord]) -> Callable[..., Calls]:
    """Calls to the fake server, with test-sized timeouts and backoff, recording usage in
    `usage`; other keyword arguments override fields of the OpenAIConnection."""

    def build(
        *, cache: ResponseCache | None = None, budget: BudgetHook | None = None, **overrides: Any
    ) -> Calls:
        settings: dict[str, Any] = {
            "api_key": "sk-test",
            "base_url": fake_openai.base_url,
            "timeout_seconds": 5.0,
            "retry": RetrySettings(
                max_attempts=3, backoff_base_seconds=0.01, backoff_max_seconds=0.05
            ),
        }
        connection = OpenAIConnection.model_validate({**settings, **overrides})
        return Calls(connection, usage_sink=usage.append, cache=cache, budget=budget)

    return build
