"""Bringing the whole system up on its embedded default: for `make dev` and `make demo`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from dagster import DagsterInstance

from video_pipeline.devstack.embedded import (
    ServicesState,
    services_down,
    services_status,
    services_up,
)
from video_pipeline.queues import initialize_pools
from video_pipeline.samples import demo_project
from video_pipeline.settings import Settings
from video_pipeline.storage.db import engine_for
from video_pipeline.storage.ledger import mark_queued
from video_pipeline.storage.migrate import upgrade
from video_pipeline.storage.object_store import ObjectStore, key_from_uri
from video_pipeline.storage.projects import create_project
from video_pipeline.storage.tables import projects, renders


def start_stack(settings: Settings) -> ServicesState:
    """Start the embedded services, migrate the database, create the bucket."""
    state = services_up(settings.resolved_data_dir, dagster_yaml=Path("dagster.yaml"))
    env = state.environment(settings.resolved_data_dir)
    upgrade(env["DATABASE_URL"])
    # This process works with the stack from here on; Dagster's instance reads its
    # storage URL from the environment.
    os.environ.update(env)
    with DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        initialize_pools(instance)
    store = ObjectStore(
        bucket=state.bucket,
        endpoint_url=state.s3_url,
        region=state.region,
        access_key_id=state.s3_access_key,
        secret_access_key=state.s3_secret_key,
    )
    store.ensure_bucket()
    return state


def create_demo_project(engine: sa.Engine) -> str:
    """Insert the demo project shipped in `video_pipeline/samples/demo`."""
    demo = demo_project()
    return create_project(
        engine,
        owner_id=demo.owner_id,
        title=demo.title,
        brief=demo.brief,
        settings=demo.settings,
        sources=demo.sources,
    )


@dataclass(frozen=True)
class DemoResult:
    project_id: str
    video_uri: str
    local_path: Path


def run_demo(settings: Settings, out_dir: Path) -> DemoResult:
    """Render the demo project in a real Dagster run on the embedded services, then stop
    the services again if this call started them."""
    was_running = all(services_status(settings.resolved_data_dir).values())
    state = start_stack(settings)
    env = state.environment(settings.resolved_data_dir)
    try:
        return _render_demo(env, out_dir)
    finally:
        if not was_running:
            services_down(settings.resolved_data_dir)


def _render_demo(env: dict[str, str], out_dir: Path) -> DemoResult:
    from dagster import DagsterInstance

    from video_pipeline.assets.stage_asset import PROJECTS
    from video_pipeline.definitions import defs

    engine = engine_for(env["DATABASE_URL"])
    project_id = create_demo_project(engine)
    instance = DagsterInstance.get()
    instance.add_dynamic_partitions(PROJECTS, [project_id])
    mark_queued(engine, [project_id])
    result = (
        defs()
        .resolve_job_def("make_video")
        .execute_in_process(
            partition_key=project_id,
            instance=instance,
            tags={"project_id": project_id},
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
            raise_on_error=False,
        )
    )
    if not result.success:
        with engine.connect() as conn:
            detail = conn.execute(
                sa.select(projects.c.status_detail).where(projects.c.id == project_id)
            ).scalar_one()
        raise SystemExit(f"demo run failed for project {project_id}: {detail}")
    with engine.connect() as conn:
        video_uri = conn.execute(
            sa.select(renders.c.video_uri).where(renders.c.project_id == project_id)
        ).scalar_one()
    bucket, key = key_from_uri(video_uri)
    store = ObjectStore(
        bucket=bucket,
        endpoint_url=env["AWS_ENDPOINT_URL_S3"],
        region=env["AWS_DEFAULT_REGION"],
        access_key_id=env["AWS_ACCESS_KEY_ID"],
        secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    local = store.download_file(key, out_dir.resolve() / f"demo-{project_id}.mp4")
    return DemoResult(project_id, video_uri, local)


def run_dev(settings: Settings, port: int) -> int:
    """Everything up, a demo project inserted, `dagster dev` in the foreground until Ctrl-C."""
    state = start_stack(settings)
    env = state.environment(settings.resolved_data_dir)
    project_id = create_demo_project(engine_for(env["DATABASE_URL"]))
    print(f"demo project {project_id} inserted; the intake sensor will render it", flush=True)
    print(f"Dagster UI: http://127.0.0.1:{port}", flush=True)
    print(
        f"metrics:    http://{settings.platform.metrics_host}:{settings.platform.metrics_port}/metrics",
        flush=True,
    )
    dagster = Path(sys.executable).parent / "dagster"
    # dagster dev ignores SIGTERM when headless: give it its own process group and stop
    # the whole group.
    process = subprocess.Popen(
        [str(dagster), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        env={**os.environ, **env},
        start_new_session=True,
    )
    metrics = subprocess.Popen(
        [str(Path(sys.executable).parent / "video-pipeline"), "serve"],
        env={**os.environ, **env},
        start_new_session=True,
    )
    # Ctrl-C, or a SIGTERM from a supervisor, stops everything this call started.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return process.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        _stop_group(metrics)
        _stop_group(process)
        services_down(settings.resolved_data_dir)
        print("stopped Dagster, the metrics server and the embedded services", flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGINT, then SIGTERM, then SIGKILL to the whole group until every member is gone."""
    for sig, wait in ((signal.SIGINT, 15.0), (signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            process.poll()
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
