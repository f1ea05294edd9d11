"""Measuring a creator's style from their reference scripts or transcripts.

Every number is counted from the text; `basis` says what was measured and what was assumed.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from dataclasses import dataclass

from video_pipeline.models import (
    DEFAULT_WORDS_PER_MINUTE,
    DnaProfile,
    ExtractedSource,
    SentenceLengths,
    neutral_profile,
)
from video_pipeline.text.sentences import split_sentences
from video_pipeline.text.words import keywords, word_set, words

_SRT_CUE = re.compile(
    r"(\d{1,2}):(\d{2}):(\d{2})[,.](\d{1,3})\s*-->\s*(\d{1,2}):(\d{2}):(\d{2})[,.](\d{1,3})[^\n]*"
)
_LINE_STAMP = re.compile(r"^[\[(]?(?:(\d{1,2}):)?(\d{1,2}):(\d{2})(?:[.,]\d+)?[\])]?\s*", re.M)
_CUE_INDEX = re.compile(r"^\d+\s*$|^WEBVTT.*$", re.M)

_IMPERATIVES = word_set(
    """
    stop look think imagine watch follow tell check try wait listen meet picture
    remember grab see take go don't let's subscribe share comment hit like save join
    click start keep
    """
)
_INTENSIFIERS = word_set(
    """
    really very totally absolutely literally seriously insanely super incredibly
    honestly crazy wild huge basically
    """
)
_POSITIVE = word_set(
    """
    amazing awesome beautiful brilliant cool love great incredible fascinating smart
    best fun wonderful happy perfect impressive favourite favorite enjoy win wow good
    clever better
    """
)
_NEGATIVE = word_set(
    """
    bad worst terrible awful sad problem fail danger dangerous threat loss death die
    wrong hate fear scary risk crisis decline poor
    """
)
_WONDER = word_set(
    """
    weird weirdest wild strange bizarre mind alien mystery secret surprising crazy
    unbelievable mysterious
    """
)
_DISCOURSE = word_set(
    """
    okay ok so and now alright well hey but
    """
)
_PRONOUNS = word_set(
    """
    i me my mine we us our you your yours
    """
)
_NUMBER_WORDS = word_set(
    """
    one two three four five six seven eight nine ten hundred thousand million billion
    """
)
_ABSOLUTES = re.compile(r"\b(most|never|nobody|everything|always|every|only)\b|\b\w{3,}est\b")
_CTA = (
    ("subscribe", r"\bsubscrib"),
    ("follow", r"\bfollow\b"),
    ("comment", r"\bcomments?\b|\btell me\b|\blet me know\b"),
    ("share", r"\bshare\b"),
    ("like", r"\b(hit|smash|leave) (the |a )?like\b|\blike this\b"),
    ("save", r"\bsave (this|it)\b"),
    ("try", r"\btry (it|this)\b"),
    ("check out", r"\bcheck (it |this )?out\b"),
)


@dataclass(frozen=True)
class _Spoken:
    """A reference reduced to what is said, with the timing it carried (if any)."""

    text: str
    timed_words: int
    timed_seconds: float


def measure_style(references: list[ExtractedSource], provider: str) -> DnaProfile:
    if not references:
        return neutral_profile(provider)
    spoken = [_spoken(reference.text) for reference in references]
    openings, closings, sentences = [], [], []
    for item in spoken:
        said = [s.text for s in split_sentences(item.text)]
        openings.append(said[:3])
        closings.append(said[-4:])
        sentences.extend(said)
    all_words = [w for item in spoken for w in words(item.text)]
    if not sentences or not all_words:
        return neutral_profile(provider)
    lengths = [len(words(s)) for s in sentences]
    mean = statistics.fmean(lengths)
    energy = _energy(sentences, all_words)
    formality = _formality(all_words)
    timed_words = sum(item.timed_words for item in spoken)
    timed_seconds = sum(item.timed_seconds for item in spoken)
    if timed_words >= 20 and timed_seconds > 0:
        wpm = timed_words / timed_seconds * 60
        pace = f"pace measured from timestamps: {timed_words} words in {timed_seconds:.0f} s"
    else:
        wpm = DEFAULT_WORDS_PER_MINUTE * min(1.15, max(0.85, 1 + (15 - mean) * 0.01))
        pace = (
            f"pace: no timestamps, so the default {DEFAULT_WORDS_PER_MINUTE:.0f} words/min "
            f"narration rate adjusted for a mean sentence of {mean:.1f} words"
        )
    reading_ease = _flesch_reading_ease(len(sentences), all_words)
    return DnaProfile(
        tone=_tone(all_words, energy, formality),
        energy=round(energy, 3),
        formality=round(formality, 3),
        words_per_minute=round(wpm, 1),
        sentence_length=SentenceLengths(
            mean=round(mean, 2),
            median=float(statistics.median(lengths)),
            p90=round(_p90(lengths), 2),
        ),
        signature_vocabulary=_signature(spoken, all_words),
        hook_patterns=_hooks(openings),
        cta_patterns=_ctas(closings),
        audience=_audience(reading_ease, energy),
        basis=(
            f"measured from {len(references)} reference(s), {len(all_words)} words and "
            f"{len(sentences)} sentences; {pace}; vocabulary by YAKE and a marker-word lexicon; "
            "tone, energy and formality from word lexicons and counts"
        ),
        provider=provider,
    )


def _spoken(text: str) -> _Spoken:
    """Strip SRT/VTT cues or line timestamps, keeping the words they time."""
    cues = list(_SRT_CUE.finditer(text))
    if cues:
        body = _CUE_INDEX.sub("", _SRT_CUE.sub("", text))
        seconds = _seconds(*cues[-1].groups()[4:7]) - _seconds(*cues[0].groups()[:3])
        said = " ".join(body.split())
        return _Spoken(said, len(words(said)), max(0.0, seconds))
    stamps = list(_LINE_STAMP.finditer(text))
    if len(stamps) < 2:
        return _Spoken(text, 0, 0.0)
    said = " ".join(_LINE_STAMP.sub("", text).split())
    # The last stamped line has no end time, so only the words before it are timed.
    timed = _LINE_STAMP.sub("", text[stamps[0].start() : stamps[-1].start()])
    seconds = _seconds(*stamps[-1].groups()) - _seconds(*stamps[0].groups())
    return _Spoken(said, len(words(timed)), max(0.0, seconds))


def _seconds(hours: str | None, minutes: str, seconds: str) -> float:
    return int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)


def _p90(values: list[int]) -> float:
    return statistics.quantiles(values, n=10)[8] if len(values) > 1 else float(values[0])


def _energy(sentences: list[str], all_words: list[str]) -> float:
    """Exclamations, imperatives, short sentences and intensifiers raise energy."""
    n = len(sentences)
    exclaims = sum(s.endswith("!") for s in sentences) / n
    imperative = sum(bool(words(s)) and words(s)[0] in _IMPERATIVES for s in sentences) / n
    short = sum(len(words(s)) <= 6 for s in sentences) / n
    intensifiers = 100 * sum(w in _INTENSIFIERS for w in all_words) / len(all_words)
    score = 0.15 + exclaims + 0.6 * imperative + 0.5 * short + 0.06 * intensifiers
    return min(1.0, max(0.0, score))


def _formality(all_words: list[str]) -> float:
    """Long words raise formality; contractions and first/second-person pronouns lower it."""
    letters = [w for w in all_words if not w[0].isdigit()]
    mean_length = statistics.fmean(len(w) for w in letters) if letters else 4.5
    contractions = 100 * sum("'" in w for w in all_words) / len(all_words)
    pronouns = 100 * sum(w in _PRONOUNS for w in all_words) / len(all_words)
    score = 0.2 + (mean_length - 3.8) / 1.6 - 0.03 * contractions - 0.02 * pronouns
    return min(1.0, max(0.0, score))


def _tone(all_words: list[str], energy: float, formality: float) -> str:
    positive = sum(w in _POSITIVE for w in all_words)
    negative = sum(w in _NEGATIVE for w in all_words)
    wonder = 100 * sum(w in _WONDER for w in all_words) / len(all_words)
    valence = (positive - negative) / (positive + negative) if positive + negative else 0.0
    parts = ["energetic"] if energy >= 0.55 else ["calm"] if energy <= 0.25 else []
    if wonder >= 0.8:
        parts.append("curious")
    parts.append("upbeat" if valence > 0.3 else "serious" if valence < -0.3 else "informative")
    if formality <= 0.35:
        parts.append("conversational")
    elif formality >= 0.65:
        parts.append("formal")
    return ", ".join(parts)


def _signature(spoken: list[_Spoken], all_words: list[str]) -> list[str]:
    """Marker words the creator leans on, then the references' most distinctive phrases."""
    markers = Counter(w for w in all_words if w in _INTENSIFIERS | _WONDER)
    phrases = keywords("\n\n".join(item.text for item in spoken), top=12)
    vocabulary = [w for w, _n in markers.most_common(6)]
    vocabulary += [p for p, _w in phrases if p not in vocabulary]
    return vocabulary[:12]


def _hooks(openings: list[list[str]]) -> list[str]:
    """How references open, most common pattern first, each with an example sentence."""
    checks = {
        "imperative": lambda s: _first_word(s) in _IMPERATIVES,
        "question": lambda s: s.endswith("?"),
        "you-address": lambda s: bool({"you", "your"} & set(words(s))),
        "number": lambda s: any(w[0].isdigit() or w in _NUMBER_WORDS for w in words(s)),
        "bold claim": lambda s: bool(_ABSOLUTES.search(s.lower())),
    }
    found: Counter[str] = Counter()
    examples: dict[str, str] = {}
    for sentences in openings:
        for label, check in checks.items():
            hit = next((s for s in sentences[:2] if check(s)), None)
            if hit:
                found[label] += 1
                examples.setdefault(label, hit)
    if not found:
        return ["statement: opens by stating the subject"]
    return [f"{label}: “{examples[label]}”" for label, _n in found.most_common()]


def _ctas(closings: list[list[str]]) -> list[str]:
    found: dict[str, str] = {}
    for sentences in closings:
        for sentence in sentences:
            for verb, pattern in _CTA:
                if verb not in found and re.search(pattern, sentence.lower()):
                    found[verb] = sentence
    return [f"{verb}: “{sentence}”" for verb, sentence in found.items()]


def _audience(reading_ease: float, energy: float) -> str:
    if reading_ease >= 70 and energy >= 0.5:
        who = "broad audience of casual short-video viewers"
    elif reading_ease >= 70:
        who = "general audience"
    elif reading_ease >= 50:
        who = "general adult audience"
    else:
        who = "informed adults or specialists"
    return f"{who} (Flesch reading ease {reading_ease:.0f})"


def _flesch_reading_ease(sentence_count: int, all_words: list[str]) -> float:
    syllables = sum(_syllables(w) for w in all_words)
    return (
        206.835
        - 1.015 * len(all_words) / max(1, sentence_count)
        - 84.6 * syllables / len(all_words)
    )


def _syllables(word: str) -> int:
    """Vowel groups, less a silent final e: good enough for a readability estimate."""
    groups = len(re.findall(r"[aeiouy]+", word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and groups > 1:
        groups -= 1
    return max(1, groups)


def _first_word(sentence: str) -> str:
    """The first word that is not a discourse marker ("Okay, stop scrolling" -> "stop")."""
    return next((w for w in words(sentence) if w not in _DISCOURSE), "")
