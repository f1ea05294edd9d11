"""A whole deployment on this machine for tests and benchmarks: its own app database and
Dagster storage on the embedded Postgres, the real `dagster-daemon`, and optionally a Valkey
broker with `video-pipeline worker`s, each a process group stopped at the end."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import sqlalchemy as sa
from dagster import DagsterInstance

from video_pipeline.devstack.embedded import read_state
from video_pipeline.devstack.postgres import ensure_database
from video_pipeline.queues import initialize_pools
from video_pipeline.storage.migrate import upgrade

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class Deployment:
    def __init__(self, env: dict[str, str], home: Path) -> None:
        self.env = env
        self.home = home
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = open(self.home / f"{name}.log", "ab")  # noqa: SIM115 - lives with the process
        process = subprocess.Popen(
            argv,
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        return process

    def start_daemon(self) -> None:
        self.start("daemon", [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"])

    def start_worker(self, name: str, queues: list[str], concurrency: int = 1) -> None:
        argv = [str(BIN / "video-pipeline"), "worker", "--name", name]
        argv += [arg for queue in queues for arg in ("--queue", queue)]
        self.start(name, [*argv, "--concurrency", str(concurrency)])

    @contextmanager
    def instance(self) -> Iterator[DagsterInstance]:
        """This deployment's Dagster instance (its dagster.yaml reads DAGSTER_PG_URL)."""
        saved = os.environ.get("DAGSTER_PG_URL")
        os.environ["DAGSTER_PG_URL"] = self.env["DAGSTER_PG_URL"]
        try:
            dagster_instance = DagsterInstance.from_config(str(self.home))
        finally:
            if saved is None:
                os.environ.pop("DAGSTER_PG_URL")
            else:
                os.environ["DAGSTER_PG_URL"] = saved
        with dagster_instance:
            yield dagster_instance

    def log(self, name: str) -> str:
        return (self.home / f"{name}.log").read_text(errors="replace")

    def stop(self, name: str) -> None:
        process = self.processes.pop(name)
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(process):
                time.sleep(0.2)
            if not _group_alive(process):
                break

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)


def _group_alive(process: subprocess.Popen[bytes]) -> bool:
    process.poll()
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def deployment(
    stack: dict[str, str], name: str, extra_env: dict[str, str] | None = None
) -> Iterator[Deployment]:
    """Fresh databases `<name>_app` and `<name>_dagster` on the stack's Postgres (so the
    daemon sees only this deployment's projects), dropped again at the end."""
    state = read_state(Path(stack["VIDEO_PIPELINE_DATA_DIR"]))
    assert state is not None
    databases = (f"{name}_app", f"{name}_dagster")
    for database in databases:
        ensure_database(state.postgres, database)
    home = Path(tempfile.mkdtemp(prefix=f"vp-{name}-"))
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        **stack,
        **(extra_env or {}),
        "DATABASE_URL": state.postgres.url(databases[0]),
        "DAGSTER_PG_URL": state.postgres.url(databases[1]),
        "DAGSTER_HOME": str(home),
    }
    upgrade(env["DATABASE_URL"])
    deployed = Deployment(env, home)
    with deployed.instance() as instance:
        initialize_pools(instance)
    try:
        yield deployed
    finally:
        deployed.stop_all()
        sa.create_engine(env["DATABASE_URL"]).dispose()
        admin = psycopg2.connect(state.postgres.dsn("postgres"))
        admin.autocommit = True
        with admin.cursor() as cur:
            for database in databases:
                cur.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        admin.close()
        shutil.rmtree(home, ignore_errors=True)


def wait_for(engine: sa.Engine, project_ids: list[str], timeout: float) -> dict[str, str]:
    """Poll until every project ended; their statuses."""
    deadline = time.monotonic() + timeout
    ended = ("done", "failed", "blocked", "rejected", "canceled", "needs_review")
    while True:
        with engine.connect() as conn:
            statuses = dict(
                conn.execute(
                    sa.text("SELECT id::text, status FROM projects WHERE id::text = ANY(:ids)"),
                    {"ids": project_ids},
                ).all()
            )
        if all(statuses.get(pid) in ended for pid in project_ids) or time.monotonic() > deadline:
            return statuses
        time.sleep(1.0)


def insert_past_projects(database_url: str, count: int) -> None:
    """`count` ended projects, inserted directly (as years of use would leave them): all
    past intake, all but the newest 10,000 archived; then ANALYZE."""
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO projects (owner_id, title, brief, status, created_at, updated_at,"
                " partition_added_at, partition_archived_at) "
                "SELECT 'owner-' || (g % 5000), 'past ' || g, 'b', "
                "(ARRAY['done', 'failed', 'blocked', 'rejected'])[1 + g % 4], "
                "now() - make_interval(secs => g), now() - make_interval(secs => g), "
                "now() - make_interval(secs => g), "
                "CASE WHEN g > 10000 THEN now() END "
                "FROM generate_series(1, :n) AS g"
            ),
            {"n": count},
        )
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("ANALYZE projects"))
    engine.dispose()
