"""Which language a text is in, and whether it is natural language at all.

Identification uses py3langid (its model ships inside the wheel; nothing is downloaded).
A project's language is an ISO 639-1 code that both py3langid can identify and espeak-ng
can speak; each maps to a default espeak voice and, where they have one, to the language
codes of pysbd (sentences) and YAKE (stopwords).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

# espeak-ng voice names whose language tag is not the ISO 639-1 code.
_VOICE_LANGUAGE = {"cmn": "zh", "yue": "zh", "hak": "zh", "nb": "no"}
# The voice used when a project names none; other languages use their own code.
_DEFAULT_VOICE = {"en": "en-us", "fr": "fr-fr", "zh": "cmn", "no": "nb", "vi": "vi"}
_YAKE_ALIASES = {"cs": "cz"}
UNSEGMENTED = frozenset({"th", "lo", "km", "my"})
"""Languages written in an alphabet without spaces between words (Thai, Lao, Khmer, Burmese):
unlike Chinese and Japanese, where a character is about a syllable, their words and sentences
cannot be found without a dictionary, and none ships here, so they are not offered."""

SAMPLE_CHARS = 4000
"""How much of each part of a text the identifier reads (its start, middle and end)."""
MIN_WORD_CHAR_SHARE = 0.7
"""Prose (and tables of words and numbers) is mostly letters (with their marks: the vowel
signs of Indic and Southeast Asian scripts) and digits; random bytes, markup and code are
not (about 55-60 % for random bytes read as Latin-1 or HTML tags)."""
# Scripts written without spaces between words (CJK, Thai, Lao, Khmer, Myanmar).
_UNSPACED = re.compile(
    r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"
)


OPENAI_VOICES: tuple[str, ...] = (
    *("alloy", "ash", "ballad", "cedar", "coral", "echo", "fable"),
    *("marin", "nova", "onyx", "sage", "shimmer", "verse"),
)
"""The voices OpenAI TTS speaks (any language)."""


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    default_voice: str
    pysbd: str | None
    yake: str


def _identifier() -> LanguageIdentifier:
    from video_pipeline.providers.language_model import language_identifier

    return language_identifier()


@cache
def _names() -> dict[str, str]:
    """English names of languages by code (the libraries are imported on first use: they
    take seconds, and this module is imported wherever a project is loaded)."""
    from babel import Locale

    return dict(Locale("en").languages)


def voice_language(voice: str) -> str:
    """The ISO 639-1 code an espeak-ng voice speaks, e.g. "en-gb" -> "en", "cmn" -> "zh"."""
    tag = voice.lower().split("-")[0]
    return _VOICE_LANGUAGE.get(tag, tag)


@cache
def espeak_voices() -> tuple[str, ...]:
    from video_pipeline.providers.offline.speech import EspeakSpeech

    return tuple(EspeakSpeech().voices())


@cache
def supported_languages() -> dict[str, Language]:
    """Every language a project can be made in, by code."""
    import pysbd.languages
    import yake

    stopwords = Path(yake.__file__).parent / "core" / "StopwordsList"
    with_stopwords = {p.stem.removeprefix("stopwords_") for p in stopwords.glob("*.txt")}
    spoken = {voice_language(v) for v in espeak_voices()}
    names = _names()
    languages = {}
    for code in sorted(set(_identifier().labels) & spoken):
        if len(code) != 2 or code not in names or code in UNSEGMENTED:
            continue
        languages[code] = Language(
            code=code,
            name=names[code],
            default_voice=_DEFAULT_VOICE.get(code, code),
            pysbd=code if code in pysbd.languages.LANGUAGE_CODES else None,
            yake=code_ if (code_ := _YAKE_ALIASES.get(code, code)) in with_stopwords else "noLang",
        )
    return languages


def language(code: str) -> Language:
    """The supported language `code` (case-insensitive); KeyError when unsupported."""
    return supported_languages()[code.strip().lower()]


def voices_for(code: str) -> list[str]:
    """The espeak-ng voices that speak language `code`."""
    return [v for v in espeak_voices() if voice_language(v) == code]


def language_name(code: str) -> str:
    return _names().get(code, code)


def _samples(text: str) -> list[str]:
    if len(text) <= 3 * SAMPLE_CHARS:
        return [text]
    middle = len(text) // 2 - SAMPLE_CHARS // 2
    return [text[:SAMPLE_CHARS], text[middle : middle + SAMPLE_CHARS], text[-SAMPLE_CHARS:]]


def not_language(text: str) -> str | None:
    """Why `text` is not natural-language prose (random bytes, an encoded blob, markup,
    numbers), or None when it reads as language. Looks at up to three samples."""
    for sample in _samples(text):
        visible = [ch for ch in sample if not ch.isspace()]
        if not visible:
            return "it contains no words"
        word_chars = sum(1 for ch in visible if unicodedata.category(ch)[0] in "LMN")
        if word_chars / len(visible) < MIN_WORD_CHAR_SHARE:
            return (
                f"only {100 * word_chars // len(visible)} % of its characters are letters or "
                "digits (it looks like random bytes, markup or code rather than prose)"
            )
        tokens = sample.split()
        long_tokens = sum(1 for t in tokens if len(t) > 40 and not _UNSPACED.search(t))
        if long_tokens / len(tokens) > 0.2:
            return "it is mostly long unbroken strings (it looks like an encoded blob)"
        code, _confidence = _identifier().classify(sample)
        if code == "zxx":
            return "it has no linguistic content (it looks like an encoded blob or code)"
    return None


def detect(text: str) -> tuple[str, float]:
    """The most likely language of `text` and the identifier's confidence in [0, 1]."""
    votes: dict[str, float] = {}
    for sample in _samples(text):
        code, confidence = _identifier().classify(sample)
        votes[code] = votes.get(code, 0.0) + float(confidence)
    code = max(votes, key=lambda c: votes[c])
    return code, votes[code] / len(_samples(text))
