"""Full text in the project's language, reciprocal rank fusion, hybrid search."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from video_pipeline.providers.offline.embeddings import HashingEmbeddings
from video_pipeline.storage.fulltext import text_search_config
from video_pipeline.storage.hits import SearchHit
from video_pipeline.storage.search import SearchMode, reciprocal_rank_fusion, search_chunks
from video_pipeline_tests.storage.chunks import store_texts


def hit(chunk_id: int) -> SearchHit:
    return SearchHit(chunk_id, "p", "source", f"s:{chunk_id}", f"text {chunk_id}", 0.0)


def test_fusion_rewards_chunks_found_by_both_rankings() -> None:
    vector = [hit(1), hit(2), hit(3)]
    text = [hit(3), hit(4)]
    fused = reciprocal_rank_fusion([vector, text], limit=4)
    # 2 and 4 both come second in one ranking: equal scores, the lower id first.
    assert [h.chunk_id for h in fused] == [3, 1, 2, 4]
    assert fused[0].score == pytest.approx(1 / 63 + 1 / 61)
    assert fused[1].score == pytest.approx(1 / 61)


@pytest.mark.parametrize(
    ("language", "config"),
    [
        ("en", "english"),
        ("de-AT", "german"),
        ("fr", "french"),
        ("es", "spanish"),
        ("pt_BR", "portuguese"),
        ("tlh", "simple"),
        ("", "simple"),
    ],
)
def test_languages_map_to_postgres_configurations(language: str, config: str) -> None:
    assert text_search_config(language) == config


def test_text_search_stems_in_the_projects_language(engine: sa.Engine) -> None:
    store_texts(engine, "text-de", ["Die Häuser stehen am Fluss.", "Ein Garten ohne Blumen."], "de")
    store_texts(engine, "text-fr", ["Les maisons sont grandes.", "Un jardin fleuri."], "fr")
    model = HashingEmbeddings().model

    def found(owner: str, query: str, language: str) -> list[str]:
        hits = search_chunks(engine, owner, model, query, None, SearchMode.text, language, 5)
        return [h.content for h in hits]

    assert found("text-de", "Haus", "de") == ["Die Häuser stehen am Fluss."]
    assert found("text-fr", "maison", "fr") == ["Les maisons sont grandes."]
    # Web-search syntax: every word must match unless joined by "or".
    assert found("text-de", "Haus Blumen", "de") == []
    assert len(found("text-de", "Haus or Blumen", "de")) == 2
    with pytest.raises(ValueError, match="needs the query embedded"):
        search_chunks(engine, "text-de", model, "Haus", None, SearchMode.hybrid)
