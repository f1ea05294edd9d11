"""Scripts sized to the target duration at the creator's pace, grounded in research facts."""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path

import pytest

from video_pipeline.errors import PipelineInputError
from video_pipeline.models import (
    Citation,
    DnaProfile,
    KeyFact,
    Project,
    ProjectSettings,
    Research,
    Script,
    SourceInput,
    max_facts,
)
from video_pipeline.providers.offline.content import OfflineContent
from video_pipeline.providers.offline.speech import EspeakSpeech
from video_pipeline.stages.dna_profile import run_dna_profile
from video_pipeline.stages.research import citation_problems, run_research
from video_pipeline.stages.script import grounding_problems, pacing_problems, run_script
from video_pipeline.stages.sources import extract_sources
from video_pipeline.text.scripts import script as script_of
from video_pipeline.text.words import words


def write(
    demo: Project, research: Research, dna: DnaProfile, content: OfflineContent, seconds: float
) -> Script:
    settings = demo.settings.model_copy(update={"duration_seconds": seconds})
    return run_script(demo.title, demo.brief, research, dna, settings, content)


def fitting(
    demo: Project, research: Research, dna: DnaProfile, content: OfflineContent, seconds: float
) -> Script:
    """The script for a `seconds` video, checked to be paced, grounded and of that length."""
    script = write(demo, research, dna, content, seconds)
    settings = ProjectSettings(duration_seconds=seconds)
    assert pacing_problems(script, dna, settings) == []
    assert grounding_problems(script, research) == []
    assert abs(script.estimated_duration_seconds - seconds) <= 0.1 * seconds
    return script


@pytest.mark.parametrize("seconds", [15, 30, 60, 120])
def test_script_fits_duration_and_pace_and_is_grounded(
    demo: Project,
    demo_research: Research,
    demo_dna: DnaProfile,
    content: OfflineContent,
    seconds: float,
) -> None:
    script = fitting(demo, demo_research, demo_dna, content, seconds)
    assert (
        abs(script.words_per_minute - demo_dna.words_per_minute) <= 0.15 * demo_dna.words_per_minute
    )
    kinds = [scene.kind for scene in script.scenes]
    assert kinds[0] == "hook" and kinds[-1] == "cta" and set(kinds[1:-1]) == {"body"}
    assert [scene.index for scene in script.scenes] == list(range(len(script.scenes)))
    for scene in script.scenes:
        assert len(scene.on_screen_text.split()) <= 8
        assert scene.visual_description.startswith("Title card")
    for scene in script.scenes[1:-1]:
        assert scene.narration == " ".join(demo_research.fact(i).text for i in scene.fact_ids)


def test_longer_videos_use_more_facts_in_outline_order(
    demo: Project, demo_research: Research, demo_dna: DnaProfile, content: OfflineContent
) -> None:
    short = write(demo, demo_research, demo_dna, content, 15)
    long = write(demo, demo_research, demo_dna, content, 120)
    assert len(long.scenes) > len(short.scenes)
    order = [int(i[1:]) for scene in long.scenes for i in scene.fact_ids]
    assert order == sorted(order)


def test_hook_and_call_to_action_follow_the_creator_patterns(
    demo: Project, demo_research: Research, demo_dna: DnaProfile, content: OfflineContent
) -> None:
    script = write(demo, demo_research, demo_dna, content, 60)
    assert script.hook.startswith("Stop")  # the reference opens with "Okay, stop scrolling."
    assert "comments" in script.call_to_action  # it closes with "Tell me in the comments."
    assert script.provider == "offline"


def test_tampered_script_is_reported(
    demo: Project, demo_research: Research, demo_dna: DnaProfile, content: OfflineContent
) -> None:
    script = write(demo, demo_research, demo_dna, content, 30)
    scenes = [scene.model_copy(deep=True) for scene in script.scenes]
    scenes[1].fact_ids = ["F99"]
    scenes[2].narration = "Honeybees were first domesticated on the Moon in 1969 by astronauts."
    scenes[-1].fact_ids = ["F404"]
    tampered = script.model_copy(update={"scenes": scenes})
    problems = grounding_problems(tampered, demo_research)
    assert "scene 1 cites unknown fact ids: F99" in problems
    assert "scene 1 states facts but cites none from the research" in problems
    assert any(p.startswith("scene 2: “Honeybees were first domesticated") for p in problems)
    assert f"scene {scenes[-1].index} cites unknown fact ids: F404" in problems


def test_pacing_problems_are_reported(
    demo: Project, demo_research: Research, demo_dna: DnaProfile, content: OfflineContent
) -> None:
    script = write(demo, demo_research, demo_dna, content, 30)
    slow = script.model_copy(
        update={
            "scenes": [
                s.model_copy(update={"duration_seconds": s.duration_seconds * 2})
                for s in script.scenes
            ]
        }
    )
    problems = pacing_problems(slow, demo_dna, ProjectSettings(duration_seconds=30))
    assert any("more than 10% (or 1 s) off the 30 s target" in p for p in problems)
    assert any(p.startswith("the script is paced at") for p in problems)
    assert any(p.startswith("scene 1 has") for p in problems)


def test_material_far_too_short_for_the_duration_is_refused(
    demo: Project, demo_research: Research, demo_dna: DnaProfile, content: OfflineContent
) -> None:
    thin = demo_research.model_copy(update={"key_facts": demo_research.key_facts[:5]})
    with pytest.raises(PipelineInputError, match=r"300 s video: its 5 key facts.*Add source"):
        write(demo, thin, demo_dna, content, 300)


def test_summary_recap_fills_a_gap_without_new_claims(
    demo: Project, demo_research: Research, demo_dna: DnaProfile, content: OfflineContent
) -> None:
    facts = demo_research.key_facts
    words_available = sum(len(words(f.text)) for f in facts)
    seconds = round(words_available / demo_dna.words_per_minute * 60 * 1.4)
    script = write(demo, demo_research, demo_dna, content, seconds)
    recap = [s for s in script.scenes if s.narration.startswith("To recap:")]
    assert len(recap) == 1 and len(recap[0].fact_ids) == 3
    assert grounding_problems(script, demo_research) == []
    assert pacing_problems(script, demo_dna, ProjectSettings(duration_seconds=seconds)) == []


def test_duration_too_short_for_any_fact_is_refused(
    demo: Project, demo_dna: DnaProfile, content: OfflineContent
) -> None:
    long_fact = "word " * 60
    research = Research(
        summary=long_fact,
        key_facts=[
            KeyFact(
                id="F1",
                text=long_fact.strip() + ".",
                citation=Citation(source_id=1, start=0, end=1),
            )
        ],
        topics=[],
        outline=[],
        open_questions=[],
        provider="offline",
    )
    with pytest.raises(PipelineInputError, match="Set the duration to at least"):
        write(demo, research, demo_dna, content, 5)


@pytest.mark.parametrize(
    "title",
    [
        "Supercalifragilistic" * 14,
        "Ḧ̷̛̝͓́ơ̴̢̧͓̹̦̿n̷̨̛͉̞̈́ė̵̢̛̳̦y 🐝🐝🐝 \u202e\u200f\u2066 b̸̡̛̠̈́e̵̢̛̳e̶̡̛̝s̷̨̛͉",
        " ".join(["honeybees"] * 40),
        "القاهرة والنحل 蜜蜂 Honeybees ⵜⵉⴼⵉⵏⴰⵖ",
    ],
)
def test_a_long_or_odd_title_cannot_make_the_opening_outlast_the_video(
    demo: Project,
    demo_research: Research,
    demo_dna: DnaProfile,
    content: OfflineContent,
    title: str,
    tmp_path: Path,
) -> None:
    settings = demo.settings.model_copy(update={"duration_seconds": 12})
    script = run_script(title, demo.brief, demo_research, demo_dna, settings, content)
    hook = script.scenes[0].narration
    assert not [c for c in hook if unicodedata.category(c) in ("Cc", "Cf")], hook
    # The material is English: a word in another script would be spelled out letter by letter.
    assert {script_of(c) for c in hook} <= {None, "LATIN"}, hook
    spoken = EspeakSpeech(demo_dna.words_per_minute).synthesize(
        hook, settings.voice, tmp_path / "hook.wav", settings.language
    )
    assert spoken.duration_seconds <= 6.0, (hook, spoken.duration_seconds)


@pytest.mark.parametrize("seconds", [6, 8, 11])
def test_a_very_short_video_gives_up_its_call_to_action_and_hook_before_its_facts(
    demo: Project,
    demo_research: Research,
    demo_dna: DnaProfile,
    content: OfflineContent,
    seconds: float,
) -> None:
    script = fitting(demo, demo_research, demo_dna, content, seconds)
    kinds = [scene.kind for scene in script.scenes]
    assert "body" in kinds and [scene.index for scene in script.scenes] == list(range(len(kinds)))
    if seconds <= 8:
        assert "cta" not in kinds


def test_a_video_no_script_can_fit_says_which_lengths_work(
    demo: Project, demo_research: Research, demo_dna: DnaProfile, content: OfflineContent
) -> None:
    with pytest.raises(PipelineInputError, match=r"No script from this material fits a 5 s"):
        write(demo, demo_research, demo_dna, content, 5)


PLACES = ["Oakridge", "Millbrook", "Harrow Bay", "Kestrel Point", "Fenwick", "Dunmore"]


def _town_records(count: int) -> str:
    """`count` distinct factual sentences: enough material for a long video."""
    rng = random.Random(7)
    places = PLACES
    things = ["lighthouse", "harbour", "railway station", "public library", "market hall"]
    things += ["bridge", "observatory", "town museum", "water mill", "botanical garden"]
    verbs = ["was built in", "first opened in", "was rebuilt in", "was restored in"]
    reasons = [
        "after a storm damaged the old one",
        "with money raised by local families",
        "to serve the growing number of visitors",
        "when the river trade was at its height",
    ]
    found: set[str] = set()
    while len(found) < count:
        found.add(
            f"The {rng.choice(things)} of {rng.choice(places)} {rng.choice(verbs)} "
            f"{rng.randint(1820, 1990)} {rng.choice(reasons)}, and it had about "
            f"{rng.randint(2, 900) * 10} visitors a year by {rng.randint(1995, 2020)}."
        )
    return " ".join(sorted(found))


@pytest.mark.parametrize("seconds", [300, 900])
def test_a_long_video_gets_the_facts_its_length_needs(
    demo: Project, content: OfflineContent, seconds: float
) -> None:
    """Research kept at most 15 facts, so no material made a video of more than about five
    minutes: the longest allowed, 15 minutes, always failed."""
    settings = demo.settings.model_copy(update={"duration_seconds": seconds})
    project = demo.model_copy(
        update={
            "settings": settings,
            "sources": [
                *[s for s in demo.sources if s.role == "reference"],
                SourceInput(id=99, role="material", kind="text", content=_town_records(400)),
            ],
        }
    )
    sources = extract_sources(project)
    most = max_facts(seconds)
    research = run_research(sources, content, most)
    assert citation_problems(research, sources, most) == []
    assert 15 < len(research.key_facts) <= most
    dna = run_dna_profile(sources, content)
    script = run_script(project.title, project.brief, research, dna, settings, content)
    assert pacing_problems(script, dna, settings) == []
    assert grounding_problems(script, research) == []
    assert abs(script.estimated_duration_seconds - seconds) <= 0.1 * seconds
    # On-screen labels spell names as the material does ("Town of Oakridge", not "oakridge").
    labels = " ".join(scene.on_screen_text for scene in script.scenes)
    named = [place for place in PLACES if place.lower() in labels.lower()]
    assert named and all(place in labels for place in named), labels
