"""The embeddings stage: sentence-aware chunks of sources, research and script, embedded."""

from __future__ import annotations

from collections import Counter
from typing import Literal

from pydantic import BaseModel

from video_pipeline.models import EmbeddingsSummary, ExtractedSource, Research, Script, Sources
from video_pipeline.providers.base import EmbeddingProvider
from video_pipeline.text.sentences import split_sentences

MIN_CHARS, MAX_CHARS = 500, 800
OVERLAP_MAX_CHARS = 200
"""A chunk repeats the previous chunk's last sentence when that sentence is at most this long."""

ChunkKind = Literal["source", "research", "script"]


class Chunk(BaseModel):
    kind: ChunkKind
    ref: str
    ordinal: int
    text: str
    start: int | None = None
    end: int | None = None


def chunk_documents(sources: Sources, research: Research, script: Script) -> list[Chunk]:
    chunks = [chunk for item in sources.items for chunk in chunk_source(item)]
    chunks.append(Chunk(kind="research", ref="research:summary", ordinal=0, text=research.summary))
    chunks += [
        Chunk(kind="research", ref=f"fact:{fact.id}", ordinal=0, text=fact.text)
        for fact in research.key_facts
    ]
    chunks += [
        Chunk(
            kind="script",
            ref=f"scene:{scene.index}",
            ordinal=0,
            text=f"{scene.on_screen_text}\n{scene.narration}",
        )
        for scene in script.scenes
    ]
    return [chunk for chunk in chunks if chunk.text.strip()]


def chunk_source(source: ExtractedSource) -> list[Chunk]:
    """Consecutive sentences packed to about 500–800 characters, each chunk an exact span of
    the source; a chunk starts with the previous chunk's last sentence when that is short."""
    sentences = [
        piece
        for sentence in split_sentences(source.text)
        for piece in _pieces(source.text, sentence.start, sentence.end)
    ]
    spans: list[tuple[int, int]] = []
    first = 0
    while first < len(sentences):
        start, last = sentences[first][0], first
        while (
            last + 1 < len(sentences)
            and sentences[last][1] - start < MIN_CHARS
            and sentences[last + 1][1] - start <= MAX_CHARS
        ):
            last += 1
        spans.append((start, sentences[last][1]))
        tail_start, tail_end = sentences[last]
        overlap = last > first and tail_end - tail_start <= OVERLAP_MAX_CHARS
        first = last if overlap else last + 1
        if last + 1 == len(sentences):
            break
    return [
        Chunk(
            kind="source",
            ref=f"source:{source.source_id}",
            ordinal=ordinal,
            text=source.text[start:end],
            start=start,
            end=end,
        )
        for ordinal, (start, end) in enumerate(spans)
    ]


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A sentence longer than a chunk (a table, run-on text) cut at spaces."""
    pieces = []
    while end - start > MAX_CHARS:
        cut = text.rfind(" ", start + 1, start + MAX_CHARS)
        cut = cut if cut > start else start + MAX_CHARS
        pieces.append((start, cut))
        start = cut + 1 if text[cut] == " " else cut
    pieces.append((start, end))
    return pieces


def summarise(chunks: list[Chunk], provider: EmbeddingProvider) -> EmbeddingsSummary:
    return EmbeddingsSummary(
        model=provider.model,
        dimension=provider.dimension,
        chunk_count=len(chunks),
        chunks_by_kind=dict(Counter(chunk.kind for chunk in chunks)),
        provider=provider.name,
    )
