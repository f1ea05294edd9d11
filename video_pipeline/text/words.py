"""Tokenising, stopwords and keyword extraction."""

from __future__ import annotations

import re
import unicodedata

import regex
import yake

# Letters of any script (the text is folded first), digits, inner apostrophes, decimals.
_ASCII_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?(?:[.,][0-9]+)*")
_IDEOGRAPHIC = r"\p{Han}\p{Hiragana}\p{Katakana}"
_WORD = regex.compile(
    rf"[{_IDEOGRAPHIC}]|[\p{{L}}\p{{M}}\p{{N}}--{_IDEOGRAPHIC}]+"
    rf"(?:['’][\p{{L}}\p{{M}}\p{{N}}--{_IDEOGRAPHIC}]+)?(?:[.,][0-9]+)*",
    regex.V1,
)
"""The same with the marks a letter carries (the vowel signs of Indic scripts are marks,
not letters), and each Chinese or Japanese character a word of its own: those scripts put no
space between words, and a character is about a syllable, the unit their pace is counted in."""
_HAN = regex.compile(r"\p{Han}")

_STOPWORD_TEXT = """
    a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can can't could couldn't did didn't do does doesn't
    doing don't down during each even ever every few for from further get gets got had hadn't
    has hasn't have haven't having he he'd he'll he's her here here's hers herself him himself
    his how how's i i'd i'll i'm i've if in into is isn't it it's its itself just let's like
    made make many may me might more most much must my myself no nor not now of off on once
    one only or other ought our ours ourselves out over own same she she'd she'll she's should
    shouldn't so some such than that that's the their theirs them themselves then there
    there's these they they'd they'll they're they've this those through to too under until up
    upon us very was wasn't we we'd we'll we're we've were weren't what what's when when's
    where where's which while who who's whom why why's will with won't would wouldn't yet you
    you'd you'll you're you've your yours yourself yourselves
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def fold(text: str) -> str:
    """Lower-case, strip accents and unify apostrophes, for matching."""
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    """Folded word tokens (numbers included)."""
    folded = fold(text)
    return (_ASCII_WORD if folded.isascii() else _WORD).findall(folded)


def content_words(text: str) -> list[str]:
    """Word tokens without stopwords and one-letter tokens (a Chinese character is a word)."""
    return [
        w for w in words(text) if w not in STOPWORDS and (len(w) > 1 or _HAN.match(w) is not None)
    ]


def keywords(
    text: str, top: int, max_ngram: int = 2, language: str = "en"
) -> list[tuple[str, float]]:
    """Key phrases by YAKE, best first, with a weight in (0, 1] (1 for the best), lower-cased
    but spelled as written (they are shown on screen: folding would drop accents and marks).

    Word forms of an earlier phrase ("hives" after "hive") are dropped; phrases that share
    only some words with a better one ("bees" after "worker bees") are kept. `language` is
    YAKE's stopword list ("noLang" for none).
    """
    if not text.strip():
        return []
    extractor = yake.KeywordExtractor(lan=language, n=max_ngram, top=top * 2, dedupLim=0.7)
    seen: set[frozenset[str]] = set()
    ranked: list[str] = []
    for phrase, _score in extractor.extract_keywords(text):
        forms = frozenset(stems(phrase))
        if forms and forms not in seen and not all(w.isdigit() for w in forms):
            seen.add(forms)
            ranked.append(" ".join(phrase.lower().split()))
    ranked = ranked[:top]
    return [(phrase, 1.0 / (1.0 + 0.15 * rank)) for rank, phrase in enumerate(ranked)]


def stem(word: str) -> str:
    """A deliberately crude plural stripper, only for matching word forms ("bees" ~ "bee")."""
    if word.endswith("'s"):
        return word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith("s") and len(word) > 3 and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def stems(text: str) -> set[str]:
    """The stems of the content words of `text`."""
    return {stem(w) for w in content_words(text)}


def support(claim: str, evidence: str) -> float:
    """Share of the claim's content-word stems that also occur in the evidence (1.0 if none)."""
    claimed = stems(claim)
    return len(claimed & stems(evidence)) / len(claimed) if claimed else 1.0


def contains(haystack: str, needle: str) -> bool:
    """Whether `needle` occurs in `haystack`, ignoring case, accents and whitespace."""
    return " ".join(fold(needle).split()) in " ".join(fold(haystack).split())


def word_set(text: str) -> frozenset[str]:
    """A set of words written as one whitespace-separated string (for lexicons)."""
    return frozenset(text.split())
