"""Extractive research on the demo material, and the citation checks."""

from __future__ import annotations

import pytest

from video_pipeline.errors import PipelineInputError
from video_pipeline.models import Citation, Research, Sources
from video_pipeline.providers.offline.content import OfflineContent
from video_pipeline.stages.research import citation_problems, run_research
from video_pipeline.text.normalise import squash


def test_demo_research_facts_are_cited_exactly(
    demo_research: Research, demo_sources: Sources
) -> None:
    assert citation_problems(demo_research, demo_sources) == []
    assert 5 <= len(demo_research.key_facts) <= 15
    assert [f.id for f in demo_research.key_facts] == [
        f"F{n}" for n in range(1, len(demo_research.key_facts) + 1)
    ]
    for fact in demo_research.key_facts:
        source = demo_sources.get(fact.citation.source_id)
        assert source.role == "material"
        assert squash(source.text[fact.citation.start : fact.citation.end]) == fact.text


def test_demo_research_uses_both_sources_and_outlines_every_fact(demo_research: Research) -> None:
    assert {f.citation.source_id for f in demo_research.key_facts} == {1, 2}
    outlined = " ".join(demo_research.outline)
    assert all(f"{fact.id}" in outlined for fact in demo_research.key_facts)
    assert demo_research.outline[0].startswith("How a honeybee colony works")
    assert "honey" in demo_research.topics
    assert demo_research.provider == "offline"
    summary_sentences = [f.text for f in demo_research.key_facts if f.text in demo_research.summary]
    assert len(summary_sentences) == 3


def test_tampered_citations_are_reported(demo_research: Research, demo_sources: Sources) -> None:
    facts = [f.model_copy(deep=True) for f in demo_research.key_facts]
    facts[0].citation = Citation(
        source_id=1, start=facts[0].citation.start + 40, end=facts[0].citation.end
    )
    facts[1].citation = Citation(source_id=3, start=0, end=20)
    facts[2].citation = Citation(source_id=42, start=0, end=20)
    facts[3].citation = Citation(source_id=1, start=10, end=10**6)
    tampered = demo_research.model_copy(update={"key_facts": facts})
    problems = citation_problems(tampered, demo_sources)
    assert any(p.startswith("F1 is not found in the span it cites") for p in problems)
    assert any("F2 cites source 3, a style reference" in p for p in problems)
    assert any("F3 cites source 42, which the project lacks" in p for p in problems)
    assert any(p.startswith("F4 cites characters 10–1000000") for p in problems)


def test_paraphrased_fact_with_enough_overlap_passes(
    demo_research: Research, demo_sources: Sources
) -> None:
    fact = demo_research.key_facts[0]
    words = fact.text.rstrip(".").split()
    paraphrase = fact.model_copy(update={"text": " ".join(reversed(words))})
    research = demo_research.model_copy(
        update={"key_facts": [paraphrase, *demo_research.key_facts[1:]]}
    )
    assert citation_problems(research, demo_sources) == []


def test_fact_count_outside_five_to_fifteen_is_reported(
    demo_research: Research, demo_sources: Sources
) -> None:
    few = demo_research.model_copy(update={"key_facts": demo_research.key_facts[:3]})
    assert citation_problems(few, demo_sources) == ["research has 3 key facts; 5 to 15 are needed"]


def test_no_material_is_refused(demo_sources: Sources, content: OfflineContent) -> None:
    only_references = demo_sources.model_copy(update={"items": demo_sources.by_role("reference")})
    with pytest.raises(PipelineInputError, match="has no material to research"):
        run_research(only_references, content)


def test_too_little_material_is_refused(demo_sources: Sources, content: OfflineContent) -> None:
    thin = demo_sources.items[0].model_copy(
        update={"text": "Bees make honey from nectar every day."}
    )
    with pytest.raises(PipelineInputError, match="too thin to research: it has 1 usable sentences"):
        run_research(demo_sources.model_copy(update={"items": [thin]}), content)


def test_open_questions_name_uncovered_brief_words_and_bare_numbers(
    demo_sources: Sources, content: OfflineContent
) -> None:
    text = (
        "The hive grew every year after the move. The honey harvest of that first year reached 40. "
        "The beekeeper checked the frames each week in summer. Bees reportedly flew farther "
        "in dry years than in wet ones. The colony swarmed twice before the autumn came. "
        "Wax moths damaged two of the old frames stored in the shed."
    )
    source = demo_sources.items[0].model_copy(update={"text": text})
    sources = demo_sources.model_copy(
        update={"items": [source], "brief": "A video about hives and volcanoes."}
    )
    questions = run_research(sources, content).open_questions
    assert any("“volcanoes”" in q and "no material source covers it" in q for q in questions)
    assert any("40 without a unit" in q for q in questions)
    assert any("hedged (“reportedly”)" in q for q in questions)
    assert any("one source" in q for q in questions)
