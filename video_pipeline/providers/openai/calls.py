"""One path for every OpenAI request: cache, budget, retries, usage and cost."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol, TypeVar

import openai
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from video_pipeline.providers.base import ProviderError, UsageRecord
from video_pipeline.providers.openai.client import OpenAIConnection
from video_pipeline.providers.openai.errors import (
    as_provider_error,
    error_kind,
    is_transient,
    retry_after_seconds,
)
from video_pipeline.providers.openai.pricing import Unit

PROVIDER = "openai"

T = TypeVar("T")


class ResponseCache(Protocol):
    """Replies already paid for, by request key; a hit makes no HTTP request."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str) -> None: ...


UsageSink = Callable[[UsageRecord], None]
BudgetHook = Callable[[float], None]
"""Called with a call's estimated cost in USD before it is made; raises to stop it."""


@dataclass(frozen=True)
class Call:
    capability: str
    model: str
    request: Mapping[str, Any]
    """The request as sent: the cache key is derived from it."""
    estimated_cost: float


@dataclass(frozen=True)
class Metered:
    """A reply as cacheable text, with what producing it used."""

    value: str
    input_units: int
    output_units: int
    unit: Unit


def cache_key(model: str, request: Mapping[str, Any]) -> str:
    canonical = json.dumps(
        {"provider": PROVIDER, "model": model, "request": request},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class Calls:
    def __init__(
        self,
        connection: OpenAIConnection,
        *,
        usage_sink: UsageSink,
        cache: ResponseCache | None = None,
        budget: BudgetHook | None = None,
    ) -> None:
        self.connection = connection
        self.client = connection.client()
        self._usage_sink = usage_sink
        self._cache = cache
        self._budget = budget

    def run(self, call: Call, send: Callable[[], Metered], parse: Callable[[str], T]) -> T:
        """The parsed reply to `call`, from the cache or from `send`.

        Only replies that parse are cached; a cached reply that no longer parses (the
        reply model changed) is fetched again.
        """
        started = time.monotonic()
        key = cache_key(call.model, call.request)
        if self._cache is not None and (cached := self._cache.get(key)) is not None:
            metered = Metered(**json.loads(cached))
            try:
                result = parse(metered.value)
            except ProviderError:
                pass
            else:
                self._record(call, metered, started, cached=True)
                return result
        if self._budget is not None:
            self._budget(call.estimated_cost)
        metered = self._send_with_retries(call, send)
        self._record(call, metered, started, cached=False)
        result = parse(metered.value)
        if self._cache is not None:
            self._cache.put(key, json.dumps(asdict(metered)))
        return result

    def _send_with_retries(self, call: Call, send: Callable[[], Metered]) -> Metered:
        settings = self.connection.retry
        backoff = wait_exponential_jitter(
            initial=settings.backoff_base_seconds,
            max=settings.backoff_max_seconds,
            jitter=settings.backoff_base_seconds,
        )

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            return max(retry_after_seconds(error) or 0.0, backoff(state)) if error else 0.0

        def worth_retrying(error: BaseException) -> bool:
            asked = retry_after_seconds(error) or 0.0
            return is_transient(error) and asked <= settings.max_retry_after_seconds

        retrying = Retrying(
            stop=stop_after_attempt(settings.max_attempts),
            wait=wait,
            retry=retry_if_exception(worth_retrying),
            reraise=True,
        )

        def attempt() -> Metered:
            started = time.monotonic()
            try:
                return send()
            except openai.APIError as error:
                self._record_failure(call, error, started)
                raise

        try:
            return retrying(attempt)
        except openai.APIError as error:
            raise as_provider_error(
                error,
                capability=call.capability,
                model=call.model,
                server=self.connection.server,
                attempts=int(retrying.statistics.get("attempt_number", 1)),
            ) from error

    def _record(self, call: Call, metered: Metered, started: float, *, cached: bool) -> None:
        cost = 0.0
        if not cached:
            cost = self.connection.prices.cost(
                call.model, metered.input_units, metered.output_units, metered.unit
            )
        self._usage_sink(
            UsageRecord(
                provider=PROVIDER,
                capability=call.capability,
                model=call.model,
                input_units=metered.input_units,
                output_units=metered.output_units,
                unit=metered.unit,
                latency_ms=(time.monotonic() - started) * 1000,
                cost_usd=cost,
                cached=cached,
            )
        )

    def _record_failure(self, call: Call, error: openai.APIError, started: float) -> None:
        self._usage_sink(
            UsageRecord(
                provider=PROVIDER,
                capability=call.capability,
                model=call.model,
                latency_ms=(time.monotonic() - started) * 1000,
                error=error_kind(error),
            )
        )


class OpenAIProvider:
    """A provider whose requests all go through one shared `Calls`."""

    name = "openai"

    def __init__(self, calls: Calls) -> None:
        self._calls = calls
        self._connection = calls.connection
