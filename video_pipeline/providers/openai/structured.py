"""Chat completions with Structured Outputs: a strict JSON schema in, a validated model out."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from openai.lib._pydantic import to_strict_json_schema
from pydantic import BaseModel, ValidationError

from video_pipeline.providers.base import ProviderError
from video_pipeline.providers.openai.calls import Call, Calls, Metered
from video_pipeline.providers.openai.pricing import estimate_tokens

R = TypeVar("R", bound=BaseModel)
T = TypeVar("T")


def response_format(reply_model: type[BaseModel]) -> dict[str, Any]:
    """The `response_format` asking for `reply_model` in strict mode (the SDK's own
    strictifier: every property required, no additional properties, `$ref`s inlined)."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": reply_model.__name__,
            "strict": True,
            "schema": to_strict_json_schema(reply_model),
        },
    }


def _reply_content(value: str, model: str, task: str) -> str:
    reply = json.loads(value)
    if reply["refusal"]:
        raise ProviderError(
            f"{model} refused to write the {task}: {reply['refusal']}. "
            "Rephrase the brief or remove the material it objects to."
        )
    if reply["finish_reason"] == "length":
        raise ProviderError(
            f"{model}'s {task} was cut off at its output limit; shorten the target duration "
            "or the sources."
        )
    if reply["finish_reason"] == "content_filter":
        raise ProviderError(
            f"{model}'s {task} was stopped by the content filter; review the brief and sources."
        )
    if not reply["content"]:
        raise ProviderError(f"{model} returned an empty {task}; run the step again.")
    return str(reply["content"])


@dataclass(frozen=True)
class Question:
    """One step's chat request: which model, its instructions, its input, and how many
    tokens the reply may take."""

    capability: str
    model: str
    system: str
    user: str
    max_output_tokens: int


def ask(calls: Calls, question: Question, reply_model: type[R], convert: Callable[[R], T]) -> T:
    """Ask `question.model` for a `reply_model` and turn it into a result with `convert`.

    `convert` may raise ProviderError for replies that are well-formed but unusable; such
    replies, like refusals and malformed ones, are not cached.
    """
    capability, model = question.capability, question.model
    system, user, max_output_tokens = question.system, question.user, question.max_output_tokens
    request: dict[str, Any] = {
        "model": model,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
        "response_format": response_format(reply_model),
        "max_completion_tokens": max_output_tokens,
    }
    estimated = calls.connection.prices.cost(
        model, estimate_tokens(system + user), max_output_tokens, "tokens"
    )

    def send() -> Metered:
        completion = calls.client.chat.completions.create(**request)
        choice = completion.choices[0]
        usage = completion.usage
        return Metered(
            value=json.dumps(
                {
                    "content": choice.message.content,
                    "refusal": choice.message.refusal,
                    "finish_reason": choice.finish_reason,
                }
            ),
            input_units=usage.prompt_tokens if usage else estimate_tokens(system + user),
            output_units=usage.completion_tokens if usage else 0,
            unit="tokens",
        )

    def parse(value: str) -> T:
        content = _reply_content(value, model, capability)
        try:
            reply = reply_model.model_validate_json(content)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'reply'}: {e['msg']}"
                for e in error.errors()[:3]
            )
            raise ProviderError(
                f"{model}'s {capability} reply did not match the expected structure "
                f"({problems}); run the step again or choose a model that supports "
                "Structured Outputs."
            ) from error
        return convert(reply)

    return calls.run(Call(capability, model, request, estimated), send, parse)
