"""Sentence splitting that keeps character offsets into the original text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import pysbd

from video_pipeline.text.normalise import squash

_PARAGRAPH = re.compile(r"\S(?:.*?\S)?(?=\n[^\S\n]*\n|\s*\Z)", re.S)


@dataclass(frozen=True)
class Sentence:
    """One sentence: `text` is the whitespace-squashed form of `source[start:end]`."""

    text: str
    start: int
    end: int


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def split_sentences(text: str) -> list[Sentence]:
    """Split into sentences per paragraph (blank-line separated).

    Single newlines inside a paragraph are hard wraps, so they are read as spaces; that
    keeps offsets intact because the replacement has the same length.
    """
    sentences: list[Sentence] = []
    for paragraph in _PARAGRAPH.finditer(text):
        body = paragraph.group(0).replace("\n", " ")
        for span in _segmenter().segment(body):
            raw = body[span.start : span.end]
            start = paragraph.start() + span.start + (len(raw) - len(raw.lstrip()))
            end = paragraph.start() + span.start + len(raw.rstrip())
            if end > start:
                sentences.append(Sentence(squash(text[start:end]), start, end))
    return sentences
