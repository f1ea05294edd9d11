"""The research stage: key facts from the material, each citing the span it came from."""

from __future__ import annotations

from collections import Counter

from video_pipeline.errors import PipelineInputError
from video_pipeline.models import MAX_FACTS, MIN_FACTS, ExtractedSource, Research, Sources
from video_pipeline.providers.base import ContentProvider
from video_pipeline.text.words import contains, support

PARAPHRASE_SUPPORT = 0.7
"""A fact that is not a verbatim quote needs this share of its content words in the span."""
RESEARCH_CHARS = 500_000
"""Research reads at most this many characters of each material source (about 80,000 words:
a long book). It keeps research time and memory bounded for any source within the limits;
citations stay valid because the text read is a prefix of the source."""


def research_note(source: ExtractedSource) -> str:
    """A note for a source research reads only in part, or an empty string."""
    if source.role != "material" or source.char_count <= RESEARCH_CHARS:
        return ""
    return f" (research reads its first {RESEARCH_CHARS:,} characters only)"


def _research_part(source: ExtractedSource) -> ExtractedSource:
    if source.char_count <= RESEARCH_CHARS:
        return source
    cut = source.text.rfind(" ", 0, RESEARCH_CHARS)
    text = source.text[: cut if cut > 0 else RESEARCH_CHARS]
    return source.model_copy(update={"text": text, "char_count": len(text)})


def run_research(
    sources: Sources, provider: ContentProvider, most_facts: int = MAX_FACTS
) -> Research:
    material = sources.by_role("material")
    if not material:
        raise PipelineInputError(
            f"Project {sources.project_id} has no material to research: add at least one "
            "source with role 'material' (text, a file or a URL about the subject). Reference "
            "sources only describe the creator's style."
        )
    return provider.research(sources.brief, [_research_part(s) for s in material], most_facts)


def citation_problems(
    research: Research, sources: Sources, most_facts: int = MAX_FACTS
) -> list[str]:
    """Everything wrong with the facts' citations, in words; empty when all check out."""
    problems = []
    count = len(research.key_facts)
    if not MIN_FACTS <= count <= most_facts:
        problems.append(f"research has {count} key facts; {MIN_FACTS} to {most_facts} are needed")
    duplicates = [i for i, n in Counter(f.id for f in research.key_facts).items() if n > 1]
    if duplicates:
        problems.append(f"fact ids used more than once: {', '.join(sorted(duplicates))}")
    for fact in research.key_facts:
        cited = fact.citation
        try:
            source = sources.get(cited.source_id)
        except KeyError:
            problems.append(f"{fact.id} cites source {cited.source_id}, which the project lacks")
            continue
        if source.role != "material":
            problems.append(f"{fact.id} cites source {cited.source_id}, a style reference")
        if not cited.start < cited.end <= len(source.text):
            problems.append(
                f"{fact.id} cites characters {cited.start}–{cited.end} of source "
                f"{cited.source_id}, which has {len(source.text)} characters"
            )
            continue
        span = source.text[cited.start : cited.end]
        if not contains(span, fact.text) and support(fact.text, span) < PARAPHRASE_SUPPORT:
            problems.append(
                f"{fact.id} is not found in the span it cites (source {cited.source_id}, "
                f"characters {cited.start}–{cited.end}): “{fact.text}” vs “{span[:200]}”"
            )
    return problems
