"""Dagster's Postgres storage (runs, events, schedules) with pooled connections.

Outside the webserver, dagster-postgres opens a new connection for every storage call
(SQLAlchemy's NullPool): every event a run writes, every look at the run queue, every sensor
cursor. A new Postgres connection forks and initialises a backend, about 4 ms and 3 ms of
server CPU; a burst of 20 projects made ~10,000 of them, and Postgres took 28 % of both cores.
Here each storage keeps a small pool per process instead. A connection is pinged when taken
from the pool, so a restarted Postgres costs a reconnect rather than a failed call, and a
forked child drops the connections it inherited instead of sharing their sockets.

dagster.yaml selects it with `storage: custom:`; the instance reference handed to every run
names this class, so runs pool their connections too.
"""

from __future__ import annotations

import os
import weakref
from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa
from dagster import Field, IntSource
from dagster._config.config_schema import UserConfigSchema
from dagster._core.storage.config import pg_config
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import (
    create_pg_engine,
    get_token_provider_from_config,
    pg_url_from_config,
)

POOL_DEFAULTS = {"pool_size": 2, "max_overflow": 20}
_ENGINES: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def _forget_inherited_connections() -> None:
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


class PooledPostgresStorage(DagsterPostgresStorage):
    """`DagsterPostgresStorage` whose run, event-log and schedule storages share nothing but
    keep `pool_size` connections each (`max_overflow` more while threads need them)."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        pool_size: int = POOL_DEFAULTS["pool_size"],
        max_overflow: int = POOL_DEFAULTS["max_overflow"],
        token_provider: Any = None,
    ):
        super().__init__(postgres_url, should_autocreate_tables, inst_data, token_provider)
        for storage in (self._run_storage, self._event_log_storage, self._schedule_storage):
            storage._engine.dispose()
            storage._engine = engine = create_pg_engine(
                postgres_url,
                token_provider,
                isolation_level="AUTOCOMMIT",
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_pre_ping=True,
            )
            _ENGINES.add(engine)

    @classmethod
    def config_type(cls) -> UserConfigSchema:
        postgres: Mapping[str, Any] = cast(Mapping[str, Any], pg_config())
        return {
            **postgres,
            **{
                name: Field(IntSource, is_required=False, default_value=default)
                for name, default in POOL_DEFAULTS.items()
            },
        }

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> PooledPostgresStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
            **{name: config_value.get(name, default) for name, default in POOL_DEFAULTS.items()},
        )
