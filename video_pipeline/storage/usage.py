"""Provider usage records and the response cache."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from video_pipeline.providers.base import UsageRecord
from video_pipeline.storage.tables import provider_usage, response_cache, response_cache_users


def record_usage(
    engine: sa.Engine, project_id: str, stage: str, run_id: str | None, record: UsageRecord
) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(provider_usage).values(
                project_id=project_id, stage=stage, run_id=run_id, **record.model_dump()
            )
        )


def project_cost(engine: sa.Engine, project_id: str) -> float:
    with engine.connect() as conn:
        total = conn.execute(
            sa.select(sa.func.coalesce(sa.func.sum(provider_usage.c.cost_usd), 0)).where(
                provider_usage.c.project_id == project_id
            )
        ).scalar_one()
    return float(total)


class PostgresResponseCache:
    """Provider replies keyed by (provider, model, request) hash. With a project, each reply
    it reads or writes is noted as used by it, so deleting it can remove what only it used."""

    def __init__(self, engine: sa.Engine, project_id: str | None = None) -> None:
        self._engine = engine
        self._project_id = project_id

    def get(self, key: str) -> str | None:
        with self._engine.begin() as conn:
            value = conn.execute(
                sa.select(response_cache.c.value).where(response_cache.c.key == key)
            ).scalar_one_or_none()
            if value is not None:
                self._note_use(conn, key)
        return None if value is None else str(value)

    def put(self, key: str, value: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                insert(response_cache)
                .values(key=key, value=value)
                .on_conflict_do_update(index_elements=[response_cache.c.key], set_={"value": value})
            )
            self._note_use(conn, key)

    def _note_use(self, conn: sa.Connection, key: str) -> None:
        if self._project_id is not None:
            conn.execute(
                insert(response_cache_users)
                .values(key=key, project_id=self._project_id)
                .on_conflict_do_nothing()
            )
