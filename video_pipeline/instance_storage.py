"""Dagster's Postgres storage (runs, events, schedules) with pooled connections.

Outside the webserver, dagster-postgres opens a new connection for every storage call
(SQLAlchemy's NullPool): every event a run writes, every look at the run queue, every sensor
cursor. A new Postgres connection forks and initialises a backend process, about 4 ms; a
burst of 20 projects made ~10,000 of them, and Postgres took 28 % of both cores.

Here the three storages of every instance in a process share one pool per database URL:
`pool_size` connections kept open, `max_overflow` more while threads need them. Sharing
bounds a process's connections however many instances it builds (a Celery worker builds one
per step and never disposes of it). A connection is pinged when taken from the pool, so a
restarted Postgres costs a reconnect rather than a failed call, and a forked child drops the
connections it inherited instead of sharing their sockets. (With an `auth_provider`, which
signs each new connection, the storages keep dagster-postgres's own engines.)

dagster-postgres also looks for its tables whenever a storage is built, through three new
connections. The code server builds an instance for every sensor tick, a Celery worker one
per step: here a process looks once per database.

dagster.yaml selects it with `storage: custom:`; the instance reference handed to every run
names this class, so runs pool their connections too.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any, cast

import sqlalchemy as sa
from dagster import Field, IntSource
from dagster._config.config_schema import UserConfigSchema
from dagster._core.storage.config import pg_config
from dagster._serdes import ConfigurableClassData
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

POOL_DEFAULTS = {"pool_size": 2, "max_overflow": 20}

_ENGINES: dict[tuple[str, int, int], sa.Engine] = {}
_TABLES_CHECKED: set[str] = set()
_ENGINES_LOCK = threading.Lock()


def shared_engine(postgres_url: str, pool_size: int, max_overflow: int) -> sa.Engine:
    """This process's pooled engine for `postgres_url`."""
    key = (postgres_url, pool_size, max_overflow)
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = sa.create_engine(
                postgres_url,
                isolation_level="AUTOCOMMIT",
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_pre_ping=True,
            )
        return _ENGINES[key]


def _forget_inherited_connections() -> None:
    global _ENGINES_LOCK
    _ENGINES_LOCK = threading.Lock()  # another thread may have held it at the fork
    for engine in _ENGINES.values():
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


class PooledPostgresStorage(DagsterPostgresStorage):
    """`DagsterPostgresStorage` whose run, event-log and schedule storages use this
    process's `shared_engine`."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        pool_size: int = POOL_DEFAULTS["pool_size"],
        max_overflow: int = POOL_DEFAULTS["max_overflow"],
        token_provider: Any = None,
    ):
        check_tables = should_autocreate_tables and (
            token_provider is not None or postgres_url not in _TABLES_CHECKED
        )
        super().__init__(postgres_url, check_tables, inst_data, token_provider)
        if token_provider is not None:
            return  # it signs each new connection: dagster-postgres's own engines stay
        if check_tables:
            _TABLES_CHECKED.add(postgres_url)
        engine = shared_engine(postgres_url, pool_size, max_overflow)
        for storage in (self._run_storage, self._event_log_storage, self._schedule_storage):
            storage._engine.dispose()
            storage._engine = engine

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
