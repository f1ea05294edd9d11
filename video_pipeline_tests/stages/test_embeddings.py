"""Sentence-aware chunks that are exact spans of their sources, embedded and searchable."""

from __future__ import annotations

import itertools
import math

from video_pipeline.models import DnaProfile, Project, Research, Sources
from video_pipeline.providers.offline.content import OfflineContent
from video_pipeline.providers.offline.embeddings import HashingEmbeddings
from video_pipeline.stages.embeddings import (
    MAX_CHARS,
    chunk_documents,
    chunk_source,
    summarise,
)
from video_pipeline.stages.script import run_script


def test_chunks_cover_sources_research_and_script(
    demo: Project,
    demo_sources: Sources,
    demo_research: Research,
    demo_dna: DnaProfile,
    content: OfflineContent,
) -> None:
    script = run_script(demo.title, demo.brief, demo_research, demo_dna, demo.settings, content)
    chunks = chunk_documents(demo_sources, demo_research, script)
    refs = {c.ref for c in chunks}
    assert {"source:1", "source:2", "source:3", "research:summary", "fact:F1", "scene:0"} <= refs
    summary = summarise(chunks, HashingEmbeddings())
    assert summary.chunk_count == len(chunks)
    assert summary.chunks_by_kind["research"] == 1 + len(demo_research.key_facts)
    assert summary.chunks_by_kind["script"] == len(script.scenes)
    assert (summary.model, summary.dimension) == ("offline-hashing-384", 384)


def test_source_chunks_are_exact_overlapping_spans(demo_sources: Sources) -> None:
    source = demo_sources.items[0]
    chunks = chunk_source(source)
    assert len(chunks) >= 4
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.start is not None and chunk.end is not None
        assert chunk.text == source.text[chunk.start : chunk.end]
        assert len(chunk.text) <= MAX_CHARS
    for before, after in itertools.pairwise(chunks):
        assert after.start is not None and before.end is not None
        assert after.start < before.end  # the last sentence is repeated
    assert chunks[-1].end == len(source.text)
    assert all(len(c.text) >= 300 for c in chunks[:-1])


def test_an_overlong_sentence_is_cut_at_spaces(demo_sources: Sources) -> None:
    source = demo_sources.items[0].model_copy(update={"text": "honey " * 400})
    chunks = chunk_source(source.model_copy(update={"text": source.text.strip()}))
    assert len(chunks) >= 3
    assert all(len(c.text) <= MAX_CHARS and not c.text.startswith(" ") for c in chunks)


def test_search_ranks_the_relevant_chunk_first(demo_sources: Sources) -> None:
    provider = HashingEmbeddings()
    chunks = [c for item in demo_sources.items for c in chunk_source(item)]
    vectors = provider.embed([chunk.text for chunk in chunks])
    query = provider.embed(["How does the waggle dance tell bees the direction of flowers?"])[0]
    best = max(
        range(len(chunks)), key=lambda i: sum(a * b for a, b in zip(query, vectors[i], strict=True))
    )
    assert "waggle" in chunks[best].text
    assert all(math.isclose(sum(v * v for v in vector), 1.0) for vector in vectors)
