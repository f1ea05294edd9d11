"""Research, style profiling and scripting with OpenAI chat models and Structured Outputs."""

from __future__ import annotations

import re

import numpy as np

from video_pipeline.models import (
    MAX_FACTS,
    SCENE_PAUSE_SECONDS,
    Citation,
    DnaProfile,
    ExtractedSource,
    KeyFact,
    ProjectSettings,
    Research,
    Scene,
    Script,
    SentenceLengths,
    scene_seconds,
)
from video_pipeline.providers.base import ProviderError
from video_pipeline.providers.openai import prompts
from video_pipeline.providers.openai.calls import OpenAIProvider
from video_pipeline.providers.openai.quotes import locate_quote
from video_pipeline.providers.openai.replies import DnaReply, ResearchReply, ScriptReply
from video_pipeline.providers.openai.structured import Question, ask

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_MIN_SCENE_SECONDS = 1.5


def sentence_lengths(texts: list[str]) -> SentenceLengths:
    """Words per sentence, measured rather than asked for."""
    counts = [
        len(sentence.split())
        for text in texts
        for sentence in _SENTENCE_END.split(" ".join(text.split()))
        if sentence.strip()
    ] or [0]
    return SentenceLengths(
        mean=float(np.mean(counts)),
        median=float(np.median(counts)),
        p90=float(np.percentile(counts, 90)),
    )


def _cite(reply: ResearchReply, material: list[ExtractedSource], model: str) -> list[KeyFact]:
    """Key facts whose quote is found in a source; the named source is searched first."""
    facts: list[KeyFact] = []
    for fact in reply.facts:
        named = [s for s in material if s.source_id == fact.source_id]
        for source in named + [s for s in material if s.source_id != fact.source_id]:
            span = locate_quote(source.text, fact.quote)
            if span is not None:
                citation = Citation(source_id=source.source_id, start=span[0], end=span[1])
                facts.append(KeyFact(id=f"F{len(facts) + 1}", text=fact.text, citation=citation))
                break
    if reply.facts and not facts:
        raise ProviderError(
            f"{model} quoted none of its facts from the sources, so none can be cited; "
            "run research again or check that the sources contain readable text."
        )
    return facts


# A draft whose length is off by more than the tolerance is rewritten, at most this often.
_LENGTH_REVISIONS = 2
_LENGTH_TOLERANCE = 0.08
# How far the narration may speed up or slow down from the creator's pace to fit the target
# duration (the script's pacing check allows 15 %).
_PACE_SLACK = 0.10


def _pace(reply: ScriptReply, words_per_minute: float, target_seconds: float) -> float:
    """The speaking rate that fits the reply's words into the target, within the slack."""
    words = sum(len(scene.narration.split()) for scene in reply.scenes)
    speaking = max(1.0, target_seconds - len(reply.scenes) * SCENE_PAUSE_SECONDS)
    low, high = words_per_minute * (1 - _PACE_SLACK), words_per_minute * (1 + _PACE_SLACK)
    return min(high, max(low, words * 60 / speaking))


class OpenAIContent(OpenAIProvider):
    def research(
        self, brief: str, material: list[ExtractedSource], most_facts: int = MAX_FACTS
    ) -> Research:
        model = self._connection.models.research
        user = prompts.as_json(
            {
                "brief": brief,
                "most_facts": most_facts,
                "sources": prompts.source_payload(material, self._connection.max_prompt_chars),
            }
        )

        def convert(reply: ResearchReply) -> Research:
            return Research(
                summary=reply.summary,
                key_facts=_cite(reply, material, model),
                topics=reply.topics,
                outline=reply.outline,
                open_questions=reply.open_questions,
                provider=f"openai:{model}",
            )

        question = Question("research", model, prompts.RESEARCH, user, max_output_tokens=4000)
        return ask(self._calls, question, ResearchReply, convert)

    def dna_profile(self, references: list[ExtractedSource]) -> DnaProfile:
        if not references:
            raise ProviderError(
                "a style profile needs at least one reference source (a past script or "
                "transcript); add one to the project."
            )
        model = self._connection.models.dna
        user = prompts.as_json(
            {"references": prompts.source_payload(references, self._connection.max_prompt_chars)}
        )
        words = sum(len(source.text.split()) for source in references)

        def convert(reply: DnaReply) -> DnaProfile:
            return DnaProfile(
                tone=reply.tone,
                energy=min(max(reply.energy, 0.0), 1.0),
                formality=min(max(reply.formality, 0.0), 1.0),
                words_per_minute=min(max(reply.words_per_minute, 90.0), 220.0),
                sentence_length=sentence_lengths([source.text for source in references]),
                signature_vocabulary=reply.signature_vocabulary,
                hook_patterns=reply.hook_patterns,
                cta_patterns=reply.cta_patterns,
                audience=reply.audience,
                basis=(
                    f"{len(references)} reference source(s), {words} words; style judged by "
                    f"{model}, sentence lengths measured"
                ),
                provider=f"openai:{model}",
            )

        question = Question("dna_profile", model, prompts.DNA, user, max_output_tokens=1500)
        return ask(self._calls, question, DnaReply, convert)

    def write_script(
        self, title: str, brief: str, research: Research, dna: DnaProfile, settings: ProjectSettings
    ) -> Script:
        model = self._connection.models.script
        system, user = prompts.script_request(title, brief, research, dna, settings)
        target_words = settings.duration_seconds / 60 * dna.words_per_minute
        max_output_tokens = min(1000 + round(target_words * 3), 16_000)
        known_facts = {fact.id for fact in research.key_facts}

        def convert(reply: ScriptReply) -> Script:
            return _script_from_reply(reply, model, title, known_facts, dna, settings)

        target = settings.duration_seconds
        script = ask(
            self._calls,
            Question("script", model, system, user, max_output_tokens),
            ScriptReply,
            convert,
        )
        for _ in range(_LENGTH_REVISIONS):
            off = script.estimated_duration_seconds / target - 1
            if abs(off) <= _LENGTH_TOLERANCE:
                break
            # Models count words loosely: say how far off the draft was and ask again.
            spoken = sum(len(scene.narration.split()) for scene in script.scenes)
            wanted = round(spoken / (1 + off))
            revision = (
                f"{system}\n\nA previous draft had {spoken} words of narration and ran "
                f"{script.estimated_duration_seconds:.0f} s instead of {target:.0f} s. "
                f"Write the script again with about {wanted} words of narration in all."
            )
            question = Question("script", model, revision, user, max_output_tokens)
            script = ask(self._calls, question, ScriptReply, convert)
        return script


def _script_from_reply(
    reply: ScriptReply,
    model: str,
    title: str,
    known_facts: set[str],
    dna: DnaProfile,
    settings: ProjectSettings,
) -> Script:
    """The model's script with timed scenes, refused when it is empty or invents facts."""
    if not reply.scenes:
        raise ProviderError(f"{model} wrote a script with no scenes; run the step again.")
    invented = sorted({i for s in reply.scenes for i in s.fact_ids} - known_facts)
    if invented:
        raise ProviderError(
            f"{model}'s script cites facts that are not in the research "
            f"({', '.join(invented)}); run the script step again."
        )
    pace = _pace(reply, dna.words_per_minute, settings.duration_seconds)
    scenes = [
        Scene(
            **scene.model_dump(),
            index=index,
            duration_seconds=max(
                scene_seconds(len(scene.narration.split()), pace), _MIN_SCENE_SECONDS
            ),
        )
        for index, scene in enumerate(reply.scenes)
    ]
    hook = next((s for s in scenes if s.kind == "hook"), scenes[0])
    cta = next((s for s in reversed(scenes) if s.kind == "cta"), scenes[-1])
    return Script(
        title=title,
        hook=hook.narration,
        scenes=scenes,
        call_to_action=cta.narration,
        words_per_minute=pace,
        provider=f"openai:{model}",
    )
