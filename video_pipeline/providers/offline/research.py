"""Extractive research: key facts are real sentences of the material, cited by character span."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from video_pipeline.errors import PipelineInputError
from video_pipeline.models import MAX_FACTS, MIN_FACTS, Citation, ExtractedSource, KeyFact, Research
from video_pipeline.providers.languages import language
from video_pipeline.text.sentences import (
    QUESTION_MARKS,
    Sentence,
    sentence_end,
    split_sentences,
)
from video_pipeline.text.words import (
    STOPWORDS,
    content_words,
    fold,
    keywords,
    stem,
    stems,
    word_set,
    words,
)

_MIN_WORDS, _MAX_WORDS = 6, 45
_AGGLUTINATIVE = frozenset({"ta", "te", "kn", "ml", "tr", "az", "kk", "ky", "uz", "tk", "tt"})
_AGGLUTINATIVE |= {"ba", "fi", "et", "hu", "ko", "eu", "ka"}
"""Languages that build long words from many parts: a complete sentence may have four."""
_REDUNDANT = 0.5
_KEYWORD_CHARS = 200_000
"""Keywords come from the first 200k characters of material: plenty, and YAKE stays fast."""
# Words a brief uses about the video itself rather than about its subject.
_BRIEF_META = word_set(
    """
    video explainer short vertical quick clip minute second reel audience viewer look
    end start mention include explain focus make learn cover talk show tell story
    overview part bit way thing
    """
)
_HEDGES = re.compile(r"\b(reportedly|allegedly|possibly|perhaps|might|may have|some say)\b", re.I)
_NUMBER = re.compile(r"(?<![\w.,])(\d[\d,]*(?:\.\d+)?)(?![\d,]*\.\d)(\s*[^\s\d]*)")
_ANAPHORA = frozenset({"it", "its", "they", "them", "their", "this", "these", "those", "she", "he"})
_RANGE_WORDS = frozenset({"and", "to", "or", "of", "-", "–", "percent", "per"})


@dataclass
class _Candidate:
    source: ExtractedSource
    source_rank: int
    sentence: Sentence
    section: str | None
    stems: set[str]
    score: float = 0.0
    fact_id: str = field(default="")


def extractive_research(
    brief: str, material: list[ExtractedSource], provider: str, most_facts: int = MAX_FACTS
) -> Research:
    candidates = [c for rank, source in enumerate(material) for c in _candidates(source, rank)]
    if len(candidates) < MIN_FACTS:
        raise PipelineInputError(
            f"The material is too thin to research: it has {len(candidates)} usable sentences "
            f"and at least {MIN_FACTS} are needed (roughly 150 words of factual prose, in "
            "complete sentences)."
        )
    corpus = "\n\n".join(source.text for source in material)
    lang = language(material[0].language)
    ranked_keywords = keywords(corpus[:_KEYWORD_CHARS], top=20, language=lang.yake)
    brief_stems = stems(brief)
    for candidate in candidates:
        candidate.score = _score(candidate, ranked_keywords, brief_stems)
    facts = _select(candidates, max(MIN_FACTS, min(most_facts, round(len(candidates) * 0.5))))
    topics = [phrase for phrase, _weight in ranked_keywords[:8]]
    sections = _sections(facts, topics)
    key_facts: list[KeyFact] = []
    for section_facts in sections.values():
        for candidate in section_facts:
            candidate.fact_id = f"F{len(key_facts) + 1}"
            key_facts.append(
                KeyFact(
                    id=candidate.fact_id,
                    text=candidate.sentence.text,
                    citation=Citation(
                        source_id=candidate.source.source_id,
                        start=candidate.sentence.start,
                        end=candidate.sentence.end,
                    ),
                )
            )
    best = sorted(facts, key=lambda c: -c.score)[:3]
    summary = " ".join(c.sentence.text for c in sorted(best, key=lambda c: int(c.fact_id[1:])))
    return Research(
        summary=summary,
        key_facts=key_facts,
        topics=topics,
        outline=[
            f"{title} ({', '.join(c.fact_id for c in members)})"
            for title, members in sections.items()
        ],
        open_questions=_open_questions(brief, material, key_facts),
        provider=provider,
    )


def _candidates(source: ExtractedSource, source_rank: int) -> list[_Candidate]:
    """Complete declarative sentences of a reasonable length, with the heading above them."""
    found = []
    section: str | None = None
    fewest = 4 if source.language in _AGGLUTINATIVE else _MIN_WORDS
    for sentence in split_sentences(source.text, language(source.language).pysbd):
        count, end = len(words(sentence.text)), sentence_end(sentence.text)
        if not end:
            if count <= 12:
                section = sentence.text
            continue
        if fewest <= count <= _MAX_WORDS and end not in QUESTION_MARKS:
            found.append(_Candidate(source, source_rank, sentence, section, stems(sentence.text)))
    return found


def _score(candidate: _Candidate, ranked: list[tuple[str, float]], brief: set[str]) -> float:
    """Keyword coverage, relevance to the brief, position, concreteness; long sentences and
    sentences that lean on the one before are discounted."""
    covered = sum(weight for phrase, weight in ranked if stems(phrase) <= candidate.stems)
    coverage = min(1.0, covered / 2.5)
    relevance = min(1.0, len(candidate.stems & brief) / 3) if brief else 0.0
    position = 1.0 - 0.5 * candidate.sentence.start / max(1, len(candidate.source.text))
    concrete = 1.0 if any(ch.isdigit() for ch in candidate.sentence.text) else 0.0
    score = 0.35 * coverage + 0.35 * relevance + 0.15 * position + 0.15 * concrete
    if len(words(candidate.sentence.text)) > 35:
        score *= 0.85
    if _ANAPHORA & set(words(candidate.sentence.text)[:4]):
        score *= 0.6  # "It", "They", "all of them": needs the sentence before to make sense
    return score


def _select(candidates: list[_Candidate], wanted: int) -> list[_Candidate]:
    """Best-first without near-duplicates; every source's best sentence gets in first."""
    ranked = sorted(candidates, key=lambda c: -c.score)
    firsts: dict[int, _Candidate] = {}
    for candidate in ranked:
        firsts.setdefault(candidate.source_rank, candidate)
    chosen: list[_Candidate] = []
    for candidate in [*firsts.values(), *ranked]:
        if len(chosen) == wanted:
            break
        if candidate in chosen or any(_overlap(candidate, c) > _REDUNDANT for c in chosen):
            continue
        chosen.append(candidate)
    return chosen


def _overlap(a: _Candidate, b: _Candidate) -> float:
    return len(a.stems & b.stems) / max(1, len(a.stems | b.stems))


def _sections(facts: list[_Candidate], topics: list[str]) -> dict[str, list[_Candidate]]:
    """Group facts under the material's own headings (or their best topic), in reading order."""
    ordered = sorted(facts, key=lambda c: (c.source_rank, c.sentence.start))
    sections: dict[str, list[_Candidate]] = {}
    for candidate in ordered:
        title = candidate.section or next(
            (t.capitalize() for t in topics if stems(t) <= candidate.stems), "Background"
        )
        sections.setdefault(title, []).append(candidate)
    return sections


def _open_questions(brief: str, material: list[ExtractedSource], facts: list[KeyFact]) -> list[str]:
    questions = []
    material_stems = set().union(*(stems(source.text) for source in material))
    uncovered = {
        word: None
        for word in content_words(brief)
        if stem(word) not in material_stems and stem(word) not in _BRIEF_META
    }
    if uncovered:
        questions.append(
            "The brief mentions "
            + ", ".join(f"“{word}”" for word in uncovered)
            + " but no material source covers it: add a source on it, or drop it from the brief?"
        )
    for fact in facts:
        bare = _unitless_numbers(fact.text)
        if bare:
            questions.append(
                f"{fact.id} gives {', '.join(bare)} without a unit: {bare[0]} of what?"
            )
        hedge = _HEDGES.search(fact.text)
        if hedge:
            questions.append(f"{fact.id} is hedged (“{hedge.group(0)}”): can a source confirm it?")
    if len({fact.citation.source_id for fact in facts}) == 1:
        questions.append("Every fact comes from one source: can a second source confirm them?")
    return questions


def _unitless_numbers(text: str) -> list[str]:
    """Numbers followed by nothing or by a function word: neither a unit nor a counted noun.

    Four-digit whole numbers between 1000 and 2100 are read as years.
    """
    bare = []
    for match in _NUMBER.finditer(text):
        number, after = match.group(1), fold(match.group(2).strip())
        if re.fullmatch(r"1\d{3}|20\d{2}|2100", number):
            continue
        next_word = after.strip('.,;:!?)"”')
        if next_word and (next_word not in STOPWORDS or next_word in _RANGE_WORDS):
            continue
        bare.append(number)
    return bare
