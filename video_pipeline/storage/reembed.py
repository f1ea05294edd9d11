"""Re-embedding stored chunks after the deployment's embedding model changed.

Chunks of other models stay searchable only with their own model's query embeddings; this
rewrites them, project by project, with the current model (text, refs and language kept).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from itertools import groupby

import sqlalchemy as sa

from video_pipeline.providers.base import EmbeddingProvider
from video_pipeline.storage.vectors import ProjectChunks, StoredChunk, replace_projects

PROJECTS_PER_BATCH = 20


def stale_projects(engine: sa.Engine, model: str, owner_id: str | None = None) -> list[str]:
    """Projects with chunks embedded by another model than `model`."""
    owner_filter = "" if owner_id is None else " AND owner_id = :owner"
    with engine.connect() as conn:
        return [
            str(project_id)
            for project_id in conn.execute(
                sa.text(
                    "SELECT DISTINCT project_id FROM retrievable_text "
                    f"WHERE model <> :model{owner_filter} ORDER BY project_id"
                ),
                {"model": model, "owner": owner_id},
            ).scalars()
        ]


def _batches(items: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]


def reembed(
    engine: sa.Engine,
    embedder: EmbeddingProvider,
    owner_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Re-embed every stale project (of one owner, or all); returns the chunks rewritten.
    Idempotent: a second run finds nothing stale."""
    projects = stale_projects(engine, embedder.model, owner_id)
    done = 0
    for batch in _batches(projects, PROJECTS_PER_BATCH):
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT project_id, owner_id, kind, ref, ordinal, content, "
                    "text_config::text AS text_config FROM retrievable_text "
                    "WHERE project_id = ANY(CAST(:ids AS uuid[])) ORDER BY project_id, id"
                ),
                {"ids": list(batch)},
            ).all()
        vectors = embedder.embed([row.content for row in rows]) if rows else []
        writes, offset = [], 0
        for project_id, group in groupby(rows, key=lambda row: str(row.project_id)):
            project_rows = list(group)
            writes.append(
                ProjectChunks(
                    project_id,
                    project_rows[0].owner_id,
                    embedder.model,
                    embedder.dimension,
                    [
                        StoredChunk(r.kind, r.ref, r.ordinal, r.content, vector)
                        for r, vector in zip(
                            project_rows, vectors[offset : offset + len(project_rows)], strict=True
                        )
                    ],
                    project_rows[0].text_config,
                )
            )
            offset += len(project_rows)
        done += replace_projects(engine, writes)
        if progress is not None:
            progress(done, len(projects))
    return done
