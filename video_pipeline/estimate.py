"""What a project will cost, computed before anything is spent.

From the project alone (its sources' size, target duration, scene count) and the configured
provider's price table: no paid endpoint is called. The same price table prices the actual
calls, so the estimate and the actual cost (stored side by side when the project finishes)
are comparable. The assumptions are stated in the breakdown.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from video_pipeline.models import Project, Sources
from video_pipeline.providers.openai import prompts
from video_pipeline.providers.openai.client import ModelNames
from video_pipeline.providers.openai.pricing import PriceTable, Unit, estimate_tokens
from video_pipeline.settings import Settings

# A URL source's size is unknown until it is fetched: assume a long article.
ASSUMED_URL_CHARS = 20_000
# Extracted text per byte of a file, by extension (PDF and HTML carry much markup).
TEXT_PER_BYTE = {".pdf": 0.15, ".html": 0.3, ".htm": 0.3}
CHARS_PER_WORD = 6  # English words with their space and punctuation
TOKENS_PER_WORD = 1.35
ASSUMED_WPM = 150.0  # what the script step asks for when the profile sets no pace
RESEARCH_OUTPUT_TOKENS = 1500
DNA_OUTPUT_TOKENS = 400
SCRIPT_OVERHEAD_TOKENS = 60  # per scene: on-screen text, visual description, JSON keys


class CostLine(BaseModel):
    step: str
    model: str
    unit: Unit
    input_units: int
    output_units: int
    cost_usd: float


class CostEstimate(BaseModel):
    provider: str
    total_usd: float
    lines: list[CostLine]
    assumptions: list[str]


def source_chars(project: Project, extracted: Sources | None) -> dict[str, int]:
    """Characters of text per role, measured when the sources stage already ran."""
    if extracted is not None:
        sizes: dict[str, int] = {}
        for item in extracted.items:
            sizes[item.role] = sizes.get(item.role, 0) + item.char_count
        return sizes
    sizes = {"material": 0, "reference": 0}
    for source in project.sources:
        if source.role == "music":
            continue
        if source.kind == "text":
            size = len(source.content or "")
        elif source.kind == "url":
            size = ASSUMED_URL_CHARS
        else:
            path = Path(source.uri or "")
            ratio = TEXT_PER_BYTE.get(path.suffix.lower(), 1.0)
            size = int(path.stat().st_size * ratio) if path.is_file() else 0
        sizes[source.role] = sizes.get(source.role, 0) + size
    return sizes


def estimate_cost(
    project: Project,
    provider: str,
    models: ModelNames,
    prices: PriceTable,
    extracted: Sources | None = None,
    max_prompt_chars: int = 200_000,
) -> CostEstimate:
    settings = project.settings
    scenes = max(3, round(settings.duration_seconds / prompts.SECONDS_PER_SCENE))
    words = settings.duration_seconds / 60 * ASSUMED_WPM
    sizes = source_chars(project, extracted)
    material = min(sizes.get("material", 0), max_prompt_chars)
    reference = min(sizes.get("reference", 0), max_prompt_chars)
    research_in = estimate_tokens(prompts.RESEARCH + project.brief) + material // 4
    script_out = round(words * TOKENS_PER_WORD) + scenes * SCRIPT_OVERHEAD_TOKENS
    script_in = estimate_tokens(prompts.SCRIPT + project.title + project.brief) + (
        RESEARCH_OUTPUT_TOKENS + DNA_OUTPUT_TOKENS
    )
    embedded_tokens = (material + reference) // 4 + RESEARCH_OUTPUT_TOKENS + script_out
    usage: list[tuple[str, str, Unit, int, int]] = [
        ("research", models.research, "tokens", research_in, RESEARCH_OUTPUT_TOKENS),
        ("script", models.script, "tokens", script_in, script_out),
        ("moderation", models.moderation, "tokens", research_in + script_out, 0),
        ("embeddings", models.embeddings, "tokens", embedded_tokens, 0),
        ("speech", models.tts, "characters", round(words * CHARS_PER_WORD), 0),
        ("images", models.images, "images", 0, scenes),
    ]
    if reference:
        dna_in = estimate_tokens(prompts.DNA) + reference // 4
        usage.insert(1, ("dna_profile", models.dna, "tokens", dna_in, DNA_OUTPUT_TOKENS))
    if provider != "openai":
        lines = [
            CostLine(step=s, model="offline", unit=u, input_units=i, output_units=o, cost_usd=0.0)
            for s, _, u, i, o in usage
        ]
    else:
        lines = [
            CostLine(
                step=s,
                model=m,
                unit=u,
                input_units=i,
                output_units=o,
                cost_usd=prices.cost(m, i, o, u),
            )
            for s, m, u, i, o in usage
        ]
    return CostEstimate(
        provider=provider,
        total_usd=round(sum(line.cost_usd for line in lines), 6),
        lines=lines,
        assumptions=[
            f"{scenes} scenes of one image each, about {words:.0f} words of narration at "
            f"{ASSUMED_WPM:.0f} words per minute",
            "sources measured from their extracted text"
            if extracted is not None
            else f"sources measured from their size; a URL counts {ASSUMED_URL_CHARS} characters",
            "one paid pass of each step: retries and script rewrites for length are not "
            "counted, and replies already in the response cache cost nothing",
        ],
    )


def estimate_with_settings(
    project: Project, settings: Settings, extracted: Sources | None = None
) -> CostEstimate:
    """With the deployment's provider, model choice and price overrides."""
    openai = settings.providers.openai
    return estimate_cost(project, settings.providers.kind, openai.models, openai.prices, extracted)
