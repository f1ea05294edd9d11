"""The script stage: hook, scenes and call to action, grounded in research and paced."""

from __future__ import annotations

from video_pipeline.models import (
    DURATION_TOLERANCE,
    PACE_TOLERANCE,
    SCENE_PAUSE_SECONDS,
    DnaProfile,
    ProjectSettings,
    Research,
    Script,
    duration_slack,
)
from video_pipeline.providers.base import ContentProvider
from video_pipeline.text.sentences import split_sentences
from video_pipeline.text.words import content_words, support, words

GROUNDING_SUPPORT = 0.6
"""Share of a narration sentence's content words that must come from the scene's facts."""
_PACED_SCENE_WORDS = 8
"""Scenes shorter than this are not pace-checked on their own: rounding dominates."""


def run_script(
    title: str,
    brief: str,
    research: Research,
    dna: DnaProfile,
    settings: ProjectSettings,
    provider: ContentProvider,
) -> Script:
    return provider.write_script(title, brief, research, dna, settings)


def grounding_problems(script: Script, research: Research) -> list[str]:
    """Unknown fact ids, body scenes without facts, and body sentences their facts don't back."""
    known = {fact.id: fact for fact in research.key_facts}
    problems = []
    for scene in script.scenes:
        unknown = [fact_id for fact_id in scene.fact_ids if fact_id not in known]
        if unknown:
            problems.append(f"scene {scene.index} cites unknown fact ids: {', '.join(unknown)}")
        if scene.kind != "body":
            continue
        listed = [known[fact_id].text for fact_id in scene.fact_ids if fact_id in known]
        if not listed:
            problems.append(f"scene {scene.index} states facts but cites none from the research")
            continue
        evidence = " ".join(listed)
        for sentence in split_sentences(scene.narration):
            if _states_fact(sentence.text) and support(sentence.text, evidence) < GROUNDING_SUPPORT:
                problems.append(
                    f"scene {scene.index}: “{sentence.text}” is not backed by its facts "
                    f"({', '.join(scene.fact_ids)})"
                )
    return problems


def _states_fact(sentence: str) -> bool:
    """Three or more content words, or any number: more than a transition like "Next up"."""
    return len(content_words(sentence)) >= 3 or any(ch.isdigit() for ch in sentence)


def pacing_problems(script: Script, dna: DnaProfile, settings: ProjectSettings) -> list[str]:
    """Total duration within 10% of the target; speaking rate within 15% of the creator's."""
    problems = []
    target = settings.duration_seconds
    total = script.estimated_duration_seconds
    if abs(total - target) > duration_slack(target):
        problems.append(
            f"the script runs {total:.1f} s, more than {DURATION_TOLERANCE:.0%} (or 1 s) off "
            f"the {target:g} s target"
        )
    low, high = (
        dna.words_per_minute * (1 - PACE_TOLERANCE),
        dna.words_per_minute * (1 + PACE_TOLERANCE),
    )
    spoken = sum(len(words(scene.narration)) for scene in script.scenes)
    speaking_time = total - len(script.scenes) * SCENE_PAUSE_SECONDS
    overall = spoken / speaking_time * 60 if speaking_time > 0 else 0.0
    if not low <= overall <= high:
        problems.append(
            f"the script is paced at {overall:.0f} words/min; the creator's pace is "
            f"{dna.words_per_minute:.0f} (allowed {low:.0f}–{high:.0f})"
        )
    for scene in script.scenes:
        count = len(words(scene.narration))
        rate = count / max(0.1, scene.duration_seconds - SCENE_PAUSE_SECONDS) * 60
        if count >= _PACED_SCENE_WORDS and not low <= rate <= high:
            problems.append(
                f"scene {scene.index} has {count} words in {scene.duration_seconds:g} s "
                f"({rate:.0f} words/min; allowed {low:.0f}–{high:.0f})"
            )
    return problems
