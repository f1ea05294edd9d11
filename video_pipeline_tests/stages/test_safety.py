"""Safety decisions on real texts: the demo allows, the borderline fixture needs review, the
hostile one blocks; every reason names the category, the place and the phrase."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from video_pipeline.models import DnaProfile, Project, Research, Sources
from video_pipeline.providers.offline.content import OfflineContent
from video_pipeline.providers.offline.moderation import LexiconModeration
from video_pipeline.stages.safety import (
    CATEGORIES,
    SafetyPolicy,
    Thresholds,
    assess,
    cleared,
    input_texts,
    script_texts,
)
from video_pipeline.stages.script import run_script
from video_pipeline_tests.stages.conftest import FIXTURES

MODERATION = LexiconModeration()


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def test_demo_inputs_are_allowed(demo_sources: Sources) -> None:
    texts = input_texts(demo_sources)
    assert set(texts) == {"brief", *(f"source:{s.source_id}" for s in demo_sources.items)}
    report = assess(texts, MODERATION)
    assert report.decision == "allow"
    assert report.reasons[0].startswith("no category reached its review threshold")
    assert [s.category for s in report.scores] == list(CATEGORIES)
    assert report.scope == "input" and report.provider == "offline-lexicon"


def test_hostile_text_is_blocked_with_reasons(demo_sources: Sources) -> None:
    texts = {"brief": demo_sources.brief, "source:12": fixture("hostile.txt")}
    report = assess(texts, MODERATION)
    assert report.decision == "block"
    assert any(
        r.startswith("violence scored")
        and "in source:12 (blocks at" in r
        and "“i will kill you”" in r
        for r in report.reasons
    )
    assert any(
        r.startswith("dangerous instructions") and "build a pipe bomb" in r for r in report.reasons
    )
    violence = next(s for s in report.scores if s.category == "violence")
    assert violence.score >= violence.block_at
    assert "source:12: i will kill you" in violence.evidence


def test_borderline_text_needs_review() -> None:
    report = assess({"source:3": fixture("borderline.txt")}, MODERATION)
    assert report.decision == "review"
    assert len(report.reasons) == 1
    assert report.reasons[0].startswith("violence scored")
    assert "needs review from 0.40" in report.reasons[0] and "“massacre”" in report.reasons[0]


def test_only_an_allow_or_an_approved_review_clears_the_content() -> None:
    allowed = assess({"brief": "A calm video about honeybees."}, MODERATION)
    review = assess({"source:3": fixture("borderline.txt")}, MODERATION)
    block = assess({"source:12": fixture("hostile.txt")}, MODERATION)
    assert cleared(allowed, approved=False)
    assert not cleared(review, approved=False) and cleared(review, approved=True)
    assert not cleared(block, approved=False) and not cleared(block, approved=True)


def test_policy_thresholds_decide() -> None:
    lenient = SafetyPolicy(thresholds={"violence": Thresholds(review_at=0.9, block_at=0.95)})
    assert assess({"source:3": fixture("borderline.txt")}, MODERATION, lenient).decision == "allow"
    with pytest.raises(ValidationError):
        Thresholds(review_at=0.8, block_at=0.5)


def test_negated_phrases_weigh_less() -> None:
    plain = MODERATION.moderate(["They wanted to kill people in the town."])
    negated = MODERATION.moderate(["They did not kill people in the town."])
    assert negated.scores["violence"] < 0.4 <= plain.scores["violence"]
    assert negated.evidence["violence"] == ["kill people (negated)"]


def test_second_pass_over_the_finished_script(
    demo: Project, demo_research: Research, demo_dna: DnaProfile, content: OfflineContent
) -> None:
    script = run_script(demo.title, demo.brief, demo_research, demo_dna, demo.settings, content)
    texts = script_texts(script)
    assert set(texts) == {"script:title", *(f"scene:{s.index}" for s in script.scenes)}
    report = assess(texts, MODERATION, scope="script")
    assert (report.decision, report.scope) == ("allow", "script")
