"""The safety checks: moderate what the project was given (the brief and every source) before
any stage sends it to a provider, and later the script; decide allow, review or block, with
reasons in words."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from video_pipeline.models import (
    CategoryScore,
    SafetyDecision,
    SafetyReport,
    Script,
    Sources,
)
from video_pipeline.providers.base import ModerationProvider

CATEGORIES = (
    "violence",
    "self_harm",
    "hate",
    "sexual",
    "harassment",
    "illicit",
    "dangerous_instructions",
)
"""Category names every moderation provider reports ("illicit": drugs and weapons)."""


class Thresholds(BaseModel):
    review_at: float = Field(ge=0, le=1)
    block_at: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> Thresholds:
        if self.review_at > self.block_at:
            raise ValueError("review_at must not be above block_at")
        return self


def _default_thresholds() -> dict[str, Thresholds]:
    strict = Thresholds(review_at=0.3, block_at=0.6)
    usual = Thresholds(review_at=0.4, block_at=0.7)
    return {
        "violence": Thresholds(review_at=0.4, block_at=0.75),
        "self_harm": strict,
        "hate": strict,
        "sexual": usual,
        "harassment": usual,
        "illicit": usual,
        "dangerous_instructions": strict,
    }


class SafetyPolicy(BaseModel):
    """Per-category thresholds; a category the policy does not name uses `fallback`."""

    thresholds: dict[str, Thresholds] = Field(default_factory=_default_thresholds)
    fallback: Thresholds = Thresholds(review_at=0.5, block_at=0.85)

    def for_category(self, category: str) -> Thresholds:
        return self.thresholds.get(category, self.fallback)


def input_texts(sources: Sources) -> dict[str, str]:
    """What the first pass moderates, keyed by where it came from: the brief and every
    source, material and reference alike, whatever its size. Research and style are made
    from these texts only after this pass allowed them."""
    texts = {"brief": sources.brief}
    texts.update({f"source:{item.source_id}": item.text for item in sources.items})
    return texts


def cleared(report: SafetyReport, *, approved: bool) -> bool:
    """Whether the stages after a check may work on what it judged: it allowed it, or it
    asked for review and a person `approved` it. A block is final."""
    return report.decision == "allow" or (report.decision == "review" and approved)


def script_texts(script: Script) -> dict[str, str]:
    """What the second pass moderates: the title and every scene's words."""
    texts = {"script:title": script.title}
    for scene in script.scenes:
        texts[f"scene:{scene.index}"] = "\n".join(
            [scene.narration, scene.on_screen_text, scene.visual_description]
        )
    return texts


def assess(
    texts_by_origin: dict[str, str],
    provider: ModerationProvider,
    policy: SafetyPolicy | None = None,
    scope: Literal["input", "script"] = "input",
) -> SafetyReport:
    """Moderate each origin separately so every reason can say where the problem is."""
    policy = policy or SafetyPolicy()
    per_origin = {
        origin: provider.moderate([text]) for origin, text in texts_by_origin.items() if text
    }
    categories = list(dict.fromkeys([*CATEGORIES, *policy.thresholds]))
    for result in per_origin.values():
        categories += [c for c in result.scores if c not in categories]
    scores: list[CategoryScore] = []
    reasons: list[str] = []
    decision: SafetyDecision = "allow"
    for category in categories:
        limits = policy.for_category(category)
        best = 0.0
        evidence: list[str] = []
        for origin, result in per_origin.items():
            score = result.scores.get(category, 0.0)
            phrases = result.evidence.get(category, [])
            best = max(best, score)
            evidence += [f"{origin}: {phrase}" for phrase in phrases]
            if score >= limits.review_at:
                blocked = score >= limits.block_at
                if blocked:
                    decision = "block"
                elif decision == "allow":
                    decision = "review"
                reasons.append(_reason(category, score, origin, phrases, limits, blocked))
        scores.append(
            CategoryScore(
                category=category,
                score=min(1.0, max(0.0, best)),
                review_at=limits.review_at,
                block_at=limits.block_at,
                evidence=evidence,
            )
        )
    if decision == "allow":
        top = max(scores, key=lambda s: s.score)
        reasons.append(
            f"no category reached its review threshold (highest: {top.category} "
            f"{top.score:.2f}, review at {top.review_at:.2f})"
        )
    return SafetyReport(
        decision=decision, scores=scores, reasons=reasons, scope=scope, provider=provider.name
    )


def _reason(
    category: str,
    score: float,
    origin: str,
    phrases: list[str],
    limits: Thresholds,
    blocked: bool,
) -> str:
    if blocked:
        action = f"blocks at {limits.block_at:.2f}"
    else:
        action = f"needs review from {limits.review_at:.2f}"
    quoted = ", ".join(f"“{p}”" for p in phrases[:5]) or "no specific phrase"
    return f"{category.replace('_', ' ')} scored {score:.2f} in {origin} ({action}): {quoted}"
