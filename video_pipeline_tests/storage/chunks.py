"""Writing a project's chunks the way the embeddings stage does, for search tests."""

from __future__ import annotations

import sqlalchemy as sa

from video_pipeline.models import ProjectSettings
from video_pipeline.providers.offline.embeddings import HashingEmbeddings
from video_pipeline.storage.projects import create_project
from video_pipeline.storage.vectors import StoredChunk, replace_chunks


def store_texts(engine: sa.Engine, owner: str, texts: list[str], language: str = "en") -> str:
    """A new project of `owner` whose chunks are `texts`, embedded offline; its id."""
    embedder = HashingEmbeddings()
    project = create_project(
        engine,
        owner_id=owner,
        title="t",
        brief="b",
        settings=ProjectSettings(language=language),
        sources=[],
    )
    replace_chunks(
        engine,
        project,
        owner,
        embedder.model,
        embedder.dimension,
        [
            StoredChunk("source", f"source:{i}", i, text, vector)
            for i, (text, vector) in enumerate(zip(texts, embedder.embed(texts), strict=True))
        ],
        language,
    )
    return project


def partition_of(engine: sa.Engine, owner: str) -> str:
    """The one table that holds the owner's chunks."""
    with engine.connect() as conn:
        return str(
            conn.execute(
                sa.text(
                    "SELECT DISTINCT tableoid::regclass::text FROM retrievable_text "
                    "WHERE owner_id = :owner"
                ),
                {"owner": owner},
            ).scalar_one()
        )
