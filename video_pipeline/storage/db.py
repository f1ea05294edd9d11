"""Engines, one per database URL and process."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa


@cache
def engine_for(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=4)
