"""Which OpenAI failures are worth retrying, and what to tell the user when one is not."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

import openai

from video_pipeline.providers.base import ProviderError


def is_transient(error: BaseException) -> bool:
    """Rate limits, server errors, timeouts and dropped connections pass; the rest do not."""
    if isinstance(error, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(error, openai.RateLimitError):
        # An exhausted quota is also a 429, but waiting does not refill it.
        return error.code != "insufficient_quota"
    if isinstance(error, openai.APIStatusError):
        return error.status_code in (408, 409) or error.status_code >= 500
    return False


def error_kind(error: BaseException) -> str:
    """A short, fixed name for a failed attempt (a metrics label): timeout, connection,
    rate_limited, quota, http_<status>, or the exception's class."""
    if isinstance(error, openai.APITimeoutError):
        return "timeout"
    if isinstance(error, openai.APIConnectionError):
        return "connection"
    if isinstance(error, openai.RateLimitError):
        return "quota" if error.code == "insufficient_quota" else "rate_limited"
    if isinstance(error, openai.APIStatusError):
        return f"http_{error.status_code}"
    return type(error).__name__


def retry_after_seconds(error: BaseException) -> float | None:
    """The wait the server asked for (`retry-after-ms` or `Retry-After`), if any."""
    if not isinstance(error, openai.APIStatusError):
        return None
    headers = error.response.headers
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(float(millis) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def server_message(error: openai.APIError) -> str:
    """The provider's own explanation, without the SDK's wrapping."""
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return error.message


def _advice(error: openai.APIError, model: str, server: str) -> str:
    if isinstance(error, openai.APITimeoutError):
        return f"the request timed out; raise the OpenAI timeout or check that {server} is up"
    if isinstance(error, openai.APIConnectionError):
        return f"could not reach {server}; check OPENAI_BASE_URL and the network"
    if isinstance(error, openai.AuthenticationError):
        return "the API key was rejected; check OPENAI_API_KEY"
    if isinstance(error, openai.PermissionDeniedError):
        return f"this key may not use {model}; check the key's project and model access"
    if isinstance(error, openai.NotFoundError):
        return f"{server} does not know model {model!r}; check the configured model name"
    if isinstance(error, openai.RateLimitError):
        if error.code == "insufficient_quota":
            return "the account's quota is used up; add credit or raise the usage limit"
        return "still rate limited after retrying; try again later or run fewer projects at once"
    if isinstance(error, openai.APIStatusError) and error.status_code >= 500:
        return "the server kept failing; try again later"
    return f"the request to {model} was rejected; check the input and the model settings"


def as_provider_error(
    error: openai.APIError, *, capability: str, model: str, server: str, attempts: int
) -> ProviderError:
    status = f"HTTP {error.status_code}" if isinstance(error, openai.APIStatusError) else "error"
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    return ProviderError(
        f"OpenAI {capability} failed{tries} ({status}: {server_message(error)}): "
        f"{_advice(error, model, server)}.",
        transient=is_transient(error),
    )
