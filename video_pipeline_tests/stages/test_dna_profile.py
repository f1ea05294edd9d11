"""Style profiles measured from the reference sample, SRT subtitles and plain scripts."""

from __future__ import annotations

from video_pipeline.models import DnaProfile, ExtractedSource, Sources
from video_pipeline.providers.offline.content import OfflineContent
from video_pipeline.stages.dna_profile import run_dna_profile

SRT = """1
00:00:00,000 --> 00:00:04,000
Did you know a snail can sleep for three years?

2
00:00:04,000 --> 00:00:09,500
It's true! When the weather gets too dry, it seals itself inside its shell.

3
00:00:09,500 --> 00:00:12,000
Follow for more strange animal facts.
"""


def reference(text: str, source_id: int = 50) -> ExtractedSource:
    return ExtractedSource(
        source_id=source_id,
        role="reference",
        kind="text",
        uri=None,
        title=None,
        text=text,
        sha256="0" * 64,
        char_count=len(text),
    )


def test_transcript_sample_is_measured(demo_dna: DnaProfile) -> None:
    # 251 words before the last stamp, spoken between [00:00:00] and [00:01:41].
    assert demo_dna.words_per_minute == round(251 / 101 * 60, 1)
    assert "measured from timestamps" in demo_dna.basis
    assert 5 <= demo_dna.sentence_length.mean <= 10
    assert demo_dna.sentence_length.median <= demo_dna.sentence_length.p90
    assert demo_dna.energy > 0.6 and demo_dna.formality < 0.4
    assert demo_dna.tone.startswith("energetic")
    assert [p.split(":")[0] for p in demo_dna.hook_patterns][:2] == ["imperative", "question"]
    assert [p.split(":")[0] for p in demo_dna.cta_patterns] == ["comment", "follow"]
    assert {"honestly", "seriously"} <= set(demo_dna.signature_vocabulary)
    assert "short-video viewers" in demo_dna.audience


def test_srt_reference_gives_words_per_minute(
    demo_sources: Sources, content: OfflineContent
) -> None:
    sources = demo_sources.model_copy(update={"items": [reference(SRT)]})
    profile = run_dna_profile(sources, content)
    assert profile.words_per_minute == 150.0  # 30 words in 12 s
    assert profile.hook_patterns[0].startswith("question: “Did you know")


def test_plain_reference_uses_the_documented_default_rate(
    demo_sources: Sources, content: OfflineContent
) -> None:
    plain = demo_sources.by_role("material")
    sources = demo_sources.model_copy(
        update={"items": [r.model_copy(update={"role": "reference"}) for r in plain]}
    )
    profile = run_dna_profile(sources, content)
    assert "default 150 words/min" in profile.basis
    assert 127.5 <= profile.words_per_minute <= 172.5
    assert profile.formality > 0.6 and profile.energy < 0.3


def test_no_references_give_a_neutral_profile(
    demo_sources: Sources, content: OfflineContent
) -> None:
    sources = demo_sources.model_copy(update={"items": demo_sources.by_role("material")})
    profile = run_dna_profile(sources, content)
    assert profile.basis == "no reference material: neutral defaults"
    assert profile.words_per_minute == 150


def test_earlier_references_are_used_when_the_project_has_none(
    demo_sources: Sources, content: OfflineContent
) -> None:
    sources = demo_sources.model_copy(update={"items": demo_sources.by_role("material")})
    profile = run_dna_profile(sources, content, earlier_references=[reference(SRT)])
    assert "owner's earlier projects" in profile.basis
    assert profile.words_per_minute == 150.0  # 30 words in 12 s
