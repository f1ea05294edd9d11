"""What espeak-ng is given to say for a word it cannot read as written.

Its Japanese voice reads kana only and says "Chinese letter" for every kanji (a sentence of
42 characters took 18 s); a kanji word is given as its kana reading instead (pykakasi's
dictionary), while captions keep the text as written.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pykakasi import kakasi as Kakasi

KANA_READING_LANGUAGES = frozenset({"ja"})


@cache
def _kakasi() -> Kakasi:
    import pykakasi

    return pykakasi.kakasi()


def spoken_form(word: str, language: str) -> str:
    """`word` as the voice of `language` should be given it."""
    if language not in KANA_READING_LANGUAGES or word.isascii():
        return word
    return "".join(token["hira"] for token in _kakasi().convert(word))
