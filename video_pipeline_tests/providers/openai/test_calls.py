"""Retries, errors, cache, budget and cost: the path every OpenAI request takes."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from video_pipeline.providers.base import ProviderError, UsageRecord
from video_pipeline.providers.openai import (
    Calls,
    OpenAIContent,
    OpenAIEmbeddings,
    PriceTable,
    RetrySettings,
)
from video_pipeline_tests.fake_openai import FakeOpenAI, Fault
from video_pipeline_tests.providers.openai.conftest import MemoryCache
from video_pipeline_tests.providers.openai.samples import PAST_SCRIPT, source

EMBEDDINGS = "/v1/embeddings"
CHAT = "/v1/chat/completions"


@pytest.fixture
def embeddings(calls: Callable[..., Calls]) -> OpenAIEmbeddings:
    return OpenAIEmbeddings(calls())


def test_rate_limit_waits_for_retry_after(
    embeddings: OpenAIEmbeddings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(
        Fault("status", status=429, message="Rate limit reached", headers={"Retry-After": "1"})
    )

    assert len(embeddings.embed(["hello"])) == 1
    first, second = fake_openai.calls(EMBEDDINGS)
    assert second.at - first.at >= 1.0


def test_retry_after_ms_takes_precedence(
    embeddings: OpenAIEmbeddings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(
        Fault("status", status=429, headers={"retry-after-ms": "300", "Retry-After": "30"})
    )

    embeddings.embed(["hello"])
    first, second = fake_openai.calls(EMBEDDINGS)
    assert second.at - first.at >= 0.3


def test_server_error_then_success(
    embeddings: OpenAIEmbeddings, fake_openai: FakeOpenAI, usage: list[UsageRecord]
) -> None:
    fake_openai.script(Fault("status", status=500), Fault("status", status=503))

    assert len(embeddings.embed(["hello"])) == 1
    assert len(fake_openai.calls(EMBEDDINGS)) == 3
    assert [record.error for record in usage] == ["http_500", "http_503", None]
    assert [record.cost_usd for record in usage[:2]] == [0, 0] and usage[2].cost_usd > 0


def test_server_errors_exhaust_the_attempts(
    embeddings: OpenAIEmbeddings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(*[Fault("status", status=502, message="Bad gateway")] * 3)

    with pytest.raises(ProviderError, match=r"after 3 attempts \(HTTP 502: Bad gateway\)"):
        embeddings.embed(["hello"])
    assert len(fake_openai.calls(EMBEDDINGS)) == 3


def test_timeout_is_retried(calls: Callable[..., Calls], fake_openai: FakeOpenAI) -> None:
    provider = OpenAIEmbeddings(calls(timeout_seconds=0.5))
    fake_openai.script(Fault("delay", seconds=1.5))

    assert len(provider.embed(["hello"])) == 1
    assert len(fake_openai.calls(EMBEDDINGS)) == 2


def test_timeouts_exhaust_the_attempts(
    calls: Callable[..., Calls], fake_openai: FakeOpenAI, usage: list[UsageRecord]
) -> None:
    retry = RetrySettings(max_attempts=2, backoff_base_seconds=0.01)
    provider = OpenAIEmbeddings(calls(timeout_seconds=0.5, retry=retry))
    fake_openai.script(Fault("delay", seconds=1.5), Fault("delay", seconds=1.5))

    with pytest.raises(ProviderError, match="timed out"):
        provider.embed(["hello"])
    assert len(fake_openai.calls(EMBEDDINGS)) == 2
    assert [(record.error, record.cost_usd) for record in usage] == [("timeout", 0)] * 2


def test_bad_key_fails_at_once(embeddings: OpenAIEmbeddings, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(
        Fault("status", status=401, message="Incorrect API key provided", code="invalid_api_key")
    )

    with pytest.raises(ProviderError, match=r"Incorrect API key provided.*OPENAI_API_KEY"):
        embeddings.embed(["hello"])
    assert len(fake_openai.calls(EMBEDDINGS)) == 1


def test_exhausted_quota_is_not_retried(
    embeddings: OpenAIEmbeddings, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(
        Fault("status", status=429, message="You exceeded your quota", code="insufficient_quota")
    )

    with pytest.raises(ProviderError, match="add credit"):
        embeddings.embed(["hello"])
    assert len(fake_openai.calls(EMBEDDINGS)) == 1


def test_unknown_model_names_the_setting(
    calls: Callable[..., Calls], fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Fault("status", status=404, message="The model does not exist"))
    content = OpenAIContent(calls())

    with pytest.raises(ProviderError, match="check the configured model name"):
        content.dna_profile([source(1, PAST_SCRIPT, role="reference")])


def test_missing_key_is_explained(calls: Callable[..., Calls]) -> None:
    with pytest.raises(ProviderError, match="OPENAI_API_KEY"):
        OpenAIEmbeddings(calls(api_key=" "))


def test_cache_hit_makes_no_request(
    calls: Callable[..., Calls], fake_openai: FakeOpenAI, usage: list[UsageRecord]
) -> None:
    cache = MemoryCache()
    references = [source(1, PAST_SCRIPT, role="reference")]
    first = OpenAIContent(calls(cache=cache)).dna_profile(references)
    again = OpenAIContent(calls(cache=cache)).dna_profile(references)

    assert again == first
    assert len(fake_openai.calls(CHAT)) == 1
    assert [record.cached for record in usage] == [False, True]
    assert usage[1].cost_usd == 0 and usage[1].input_units == usage[0].input_units


def test_failed_replies_are_not_cached(
    calls: Callable[..., Calls], fake_openai: FakeOpenAI
) -> None:
    cache = MemoryCache()
    content = OpenAIContent(calls(cache=cache))
    fake_openai.script(Fault("refusal"))
    references = [source(1, PAST_SCRIPT, role="reference")]

    with pytest.raises(ProviderError):
        content.dna_profile(references)
    content.dna_profile(references)
    assert len(fake_openai.calls(CHAT)) == 2
    assert len(cache.entries) == 1


def test_budget_stops_before_any_request(
    calls: Callable[..., Calls], fake_openai: FakeOpenAI
) -> None:
    estimates: list[float] = []

    def budget(estimated_cost: float) -> None:
        estimates.append(estimated_cost)
        raise RuntimeError("over budget")

    content = OpenAIContent(calls(budget=budget))
    with pytest.raises(RuntimeError, match="over budget"):
        content.dna_profile([source(1, PAST_SCRIPT, role="reference")])
    assert fake_openai.requests == []
    # at least the 1500 output tokens it may write, at $0.60 per million
    assert estimates[0] >= 1500 * 0.60 / 1_000_000


def test_cost_comes_from_the_price_table(
    calls: Callable[..., Calls], usage: list[UsageRecord]
) -> None:
    overrides = {"gpt-4o-mini": {"input_per_million_tokens": 1.0, "output_per_million_tokens": 3.0}}
    content = OpenAIContent(calls(price_overrides=overrides))
    content.dna_profile([source(1, PAST_SCRIPT, role="reference")])

    (record,) = usage
    assert record.provider == "openai" and record.model == "gpt-4o-mini"
    assert record.input_units > 0 and record.output_units > 0
    expected = (record.input_units * 1.0 + record.output_units * 3.0) / 1_000_000
    assert record.cost_usd == pytest.approx(expected)
    assert record.latency_ms > 0


def test_unknown_models_cost_nothing() -> None:
    assert PriceTable().cost("llama3", 1000, 1000, "tokens") == 0


def test_retry_after_beyond_the_limit_fails(
    calls: Callable[..., Calls], fake_openai: FakeOpenAI
) -> None:
    provider = OpenAIEmbeddings(calls(retry=RetrySettings(max_retry_after_seconds=5)))
    fake_openai.script(Fault("status", status=429, headers={"Retry-After": "3600"}))
    started = time.monotonic()

    with pytest.raises(ProviderError, match="rate limited"):
        provider.embed(["hello"])
    assert len(fake_openai.calls(EMBEDDINGS)) == 1
    assert time.monotonic() - started < 3600
