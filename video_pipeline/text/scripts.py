"""The writing systems a text is in, so that a voice is only given words it can read."""

from __future__ import annotations

import unicodedata
from collections import Counter

MIN_SHARE = 0.01
"""A script counts when at least this share of a text's letters are in it (a stray name in
another script does not)."""


def script(char: str) -> str | None:
    """The script of a letter, from its Unicode name ("LATIN SMALL LETTER A" -> "LATIN",
    "CJK UNIFIED IDEOGRAPH-6771" -> "CJK"); None for anything that is not a letter."""
    if not unicodedata.category(char).startswith("L"):
        return None
    return unicodedata.name(char, "").split(" ", 1)[0] or None


def scripts(text: str) -> frozenset[str]:
    """The scripts of `text`'s letters, each holding at least `MIN_SHARE` of them."""
    counts = Counter(s for s in map(script, text) if s)
    total = sum(counts.values())
    return frozenset(s for s, n in counts.items() if n >= MIN_SHARE * total)


def written_in(word: str, allowed: frozenset[str]) -> bool:
    """Whether every letter of `word` is in one of the `allowed` scripts."""
    return all(s in allowed for s in map(script, word) if s)
