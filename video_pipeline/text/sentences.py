"""Sentence splitting that keeps character offsets into the original text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import pysbd

from video_pipeline.text.normalise import squash

_PARAGRAPH = re.compile(r"\S(?:.*?\S)?(?=\n[^\S\n]*\n|\s*\Z)", re.S)
FULL_STOPS = ".!…。！．।॥۔።။។։"
"""Marks that end a statement: Latin, CJK (full-width), Devanagari and the other Indic
scripts (danda), Urdu, Ethiopic, Myanmar, Khmer, Armenian."""
QUESTION_MARKS = "?？؟"
_CLOSERS = "\"'”’»」』)）]"
# A sentence end followed by space, in scripts with and without spaces between words.
_BREAK = re.compile(rf"(?<=[{FULL_STOPS}{QUESTION_MARKS}])\s+|(?<=[。！？])")
WINDOW_CHARS = 4000
"""pysbd's time grows faster than linearly with its input, so a long paragraph is split in
windows of about this many characters, each cut just after a sentence end."""


def sentence_end(text: str) -> str:
    """The mark that ends `text` as a sentence (closing quotes and brackets after it
    skipped), or "" when it ends without one (a heading, a list item, a fragment)."""
    stripped = text.rstrip().rstrip(_CLOSERS)
    last = stripped[-1:]
    return last if last and last in FULL_STOPS + QUESTION_MARKS else ""


@dataclass(frozen=True)
class Sentence:
    """One sentence: `text` is the whitespace-squashed form of `source[start:end]`."""

    text: str
    start: int
    end: int


@lru_cache(maxsize=8)
def _segmenter(language: str) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=language, clean=False, char_span=True)


def _windows(body: str) -> Iterator[tuple[int, str]]:
    """(offset, piece) pieces of at most about WINDOW_CHARS, cut after a sentence end when
    there is one in the window's second half, else at a space, else hard."""
    start = 0
    while len(body) - start > WINDOW_CHARS:
        limit = start + WINDOW_CHARS
        cut = 0
        for match in _BREAK.finditer(body, start + WINDOW_CHARS // 2, limit):
            cut = match.end()
        if not cut:
            space = body.rfind(" ", start + WINDOW_CHARS // 2, limit)
            cut = space + 1 if space > 0 else limit
        yield start, body[start:cut]
        start = cut
    yield start, body[start:]


def _spans(piece: str, language: str | None) -> Iterator[tuple[int, int]]:
    if language is None:  # no pysbd rules for it: sentence ends followed by space
        start = 0
        for match in _BREAK.finditer(piece):
            yield start, match.start() if match.start() > start else match.end()
            start = match.end()
        yield start, len(piece)
        return
    for span in _segmenter(language).segment(piece):
        yield span.start, span.end


def split_sentences(text: str, language: str | None = "en") -> list[Sentence]:
    """Split into sentences per paragraph (blank-line separated), by pysbd's rules for
    `language` (None: split after sentence-ending punctuation).

    Single newlines inside a paragraph are hard wraps, so they are read as spaces; that
    keeps offsets intact because the replacement has the same length.
    """
    sentences: list[Sentence] = []
    for paragraph in _PARAGRAPH.finditer(text):
        body = paragraph.group(0).replace("\n", " ")
        for offset, piece in _windows(body):
            for span_start, span_end in _spans(piece, language):
                raw = piece[span_start:span_end]
                start = paragraph.start() + offset + span_start + (len(raw) - len(raw.lstrip()))
                end = paragraph.start() + offset + span_start + len(raw.rstrip())
                if end > start:
                    sentences.append(Sentence(squash(text[start:end]), start, end))
    return sentences
