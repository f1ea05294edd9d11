"""The app database: its one setting, and engines, one per database URL and process."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from dagster import Config

from video_pipeline.config import setting


class DatabaseSettings(Config):
    url: str | None = setting(
        "DATABASE_URL",
        None,
        "app database, a Postgres with the `vector` extension (`postgresql+psycopg2://…`); "
        "unset: the embedded server under `VIDEO_PIPELINE_DATA_DIR`, when it runs",
    )

    def require_url(self) -> str:
        if not self.url:
            raise RuntimeError(
                "DATABASE_URL is not set and no embedded services run: start them with "
                "`video-pipeline services up` or set DATABASE_URL to a Postgres with pgvector."
            )
        return self.url

    @property
    def engine(self) -> sa.Engine:
        return engine_for(self.require_url())


@cache
def engine_for(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=4)
