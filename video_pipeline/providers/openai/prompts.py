"""Instructions for the LLM steps. Inputs are sent as JSON so nothing in a source can be
mistaken for an instruction boundary."""

from __future__ import annotations

import json
from typing import Any

from video_pipeline.models import (
    MAX_FACTS,
    SCENE_PAUSE_SECONDS,
    DnaProfile,
    ExtractedSource,
    ProjectSettings,
    Research,
)

SECONDS_PER_SCENE = 8

RESEARCH = f"""You research a topic for a short narrated video, using only the sources in the \
JSON input. Return:
- summary: two to four sentences.
- facts: up to `most_facts` (an input field; {MAX_FACTS} when absent) distinct, useful facts. \
For each: source_id, quote (one sentence or \
clause copied exactly from that source's text, unchanged), and text (the fact, restated plainly).
- topics: three to eight short topic labels.
- outline: the points the video should make, in order.
- open_questions: what the sources leave unanswered.
Never state anything the sources do not support."""

DNA = """You describe a creator's style from their past scripts or transcripts (JSON input), \
so new scripts can sound like them. tone: a few words. energy and formality: numbers from 0 to \
1. words_per_minute: the speaking pace this style suggests (narration is usually 130 to 170). \
signature_vocabulary: up to 15 words or phrases they use often, copied from the texts. \
hook_patterns: up to 5 ways they open, as templates (e.g. "Ever wondered why X?"). \
cta_patterns: up to 5 ways they close. audience: who they speak to."""

SCRIPT = """You write the script of a narrated video of about {seconds:.0f} seconds, spoken \
at {wpm:.0f} words per minute: about {words} words of narration in all, in {scenes} scenes of \
about {scene_words} words each; the length matters, count the words. Sound like the \
creator's style profile. State only what the research key facts support, keeping their \
wording where you can, and list in each \
scene's fact_ids the ids of the facts it uses (ids from the input only). The first scene is \
the hook, the last the call to action (kind "cta"), the ones between are "body". narration: \
the spoken words only, in language "{language}". on_screen_text: at most 8 words. \
visual_description: one concrete image for the scene, with no text or letters in it."""


def as_json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=1)


def source_payload(sources: list[ExtractedSource], max_chars: int) -> list[dict[str, Any]]:
    """The sources, each cut to an equal share of `max_chars` when they do not all fit."""
    share = max_chars // max(len(sources), 1)
    return [
        {
            "source_id": source.source_id,
            "title": source.title,
            "text": source.text[:share],
            **({"truncated": True} if len(source.text) > share else {}),
        }
        for source in sources
    ]


def script_request(
    title: str, brief: str, research: Research, dna: DnaProfile, settings: ProjectSettings
) -> tuple[str, str]:
    scenes = max(3, round(settings.duration_seconds / SECONDS_PER_SCENE))
    speaking_seconds = settings.duration_seconds - scenes * SCENE_PAUSE_SECONDS
    words = round(speaking_seconds / 60 * dna.words_per_minute)
    system = SCRIPT.format(
        seconds=settings.duration_seconds,
        wpm=dna.words_per_minute,
        words=words,
        scenes=scenes,
        scene_words=max(1, round(words / scenes)),
        language=settings.language,
    )
    user = as_json(
        {
            "title": title,
            "brief": brief,
            "research": {
                "summary": research.summary,
                "key_facts": [{"id": f.id, "text": f.text} for f in research.key_facts],
                "outline": research.outline,
            },
            "style_profile": dna.model_dump(exclude={"provider", "basis"}),
        }
    )
    return system, user
