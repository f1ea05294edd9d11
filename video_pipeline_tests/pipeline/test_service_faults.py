"""Service faults during a real daemon run: S3 gone while the render uploads, Postgres
restarted in the middle of a run. Each project completes (or fails saying why and completes
on a rerun), and nothing is duplicated or lost: one render, one row per stage, each chunk
once, exactly the artifacts of one render in the bucket."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import DagsterEventType

from video_pipeline.assets.render import artifact_keys
from video_pipeline.devstack.embedded import read_state, services_up
from video_pipeline.devstack.s3 import stop_process
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline_tests.helpers import restart_postgres
from video_pipeline_tests.pipeline.test_cancel import SLOW_RENDER, encoder, insert, run_of, until
from video_pipeline_tests.scale.cluster import Deployment, deployment, wait_for

RETRY = DagsterEventType.STEP_UP_FOR_RETRY

SEVEN_STAGES = [
    "dna_profile",
    "embeddings",
    "render",
    "research",
    "safety_check",
    "script",
    "sources",
]


def data_dir(stack: dict[str, str]) -> Path:
    return Path(stack["VIDEO_PIPELINE_DATA_DIR"])


def assert_one_of_everything(engine: sa.Engine, store: ObjectStore, project_id: str) -> None:
    with engine.connect() as conn:
        renders = conn.execute(
            sa.text("SELECT count(*) FROM renders WHERE project_id = :id"), {"id": project_id}
        ).scalar_one()
        stages = conn.execute(
            sa.text("SELECT stage FROM stage_outputs WHERE project_id = :id ORDER BY stage"),
            {"id": project_id},
        ).scalars()
        chunks = conn.execute(
            sa.text(
                "SELECT count(*), count(DISTINCT (kind, ref, ordinal)) FROM retrievable_text "
                "WHERE project_id = :id"
            ),
            {"id": project_id},
        ).one()
        scenes = conn.execute(
            sa.text(
                "SELECT jsonb_array_length(payload->'scenes') FROM stage_outputs "
                "WHERE project_id = :id AND stage = 'script'"
            ),
            {"id": project_id},
        ).scalar_one()
    assert renders == 1
    assert list(stages) == SEVEN_STAGES
    assert chunks[0] == chunks[1] > 0, "every chunk once"
    expected = set(artifact_keys(project_id, scenes).values())
    assert set(store.list_keys(f"projects/{project_id}/")) == expected


def step_events(cluster: Deployment, run_id: str, step: str) -> list[Any]:
    with cluster.instance() as instance:
        return [e for e in instance.all_logs(run_id) if e.step_key == step and e.dagster_event]


def test_s3_down_while_the_render_uploads(stack: dict[str, str], store: ObjectStore) -> None:
    with deployment(stack, "s3_outage", SLOW_RENDER) as cluster:
        cluster.start_daemon()
        engine = sa.create_engine(cluster.env["DATABASE_URL"])
        project_id = insert(engine, duration_seconds=15, resolution="720p")
        until(lambda: encoder(cluster), 300, "the render's ffmpeg started", cluster)
        state = read_state(data_dir(stack))
        assert state is not None
        stop_process(state.s3_pid)
        until(lambda: encoder(cluster) is None, 120, "the encode ended", cluster)
        time.sleep(3.0)  # the upload meets a closed port
        restarted = services_up(data_dir(stack))
        assert restarted.s3_url == state.s3_url, "S3 is back where clients look for it"

        assert wait_for(engine, [project_id], timeout=600) == {project_id: "done"}
        run = run_of(cluster, project_id)
        events = step_events(cluster, run.run_id, "render")
        retries = [e for e in events if e.dagster_event.event_type == RETRY]
        assert retries, "the failed upload was retried by the step's retry policy"
        reason = str(retries[0].dagster_event.event_specific_data)
        assert "Could not connect to the endpoint URL" in reason
        assert_one_of_everything(engine, store, project_id)
        engine.dispose()


def test_postgres_restarted_during_a_run(stack: dict[str, str], store: ObjectStore) -> None:
    with deployment(stack, "pg_restart", SLOW_RENDER) as cluster:
        cluster.start_daemon()
        engine = sa.create_engine(cluster.env["DATABASE_URL"], pool_pre_ping=True)
        project_id = insert(engine, duration_seconds=15, resolution="720p")
        until(lambda: encoder(cluster), 300, "the render's ffmpeg started", cluster)
        restart_postgres(stack)

        status = wait_for(engine, [project_id], timeout=600)[project_id]
        with engine.connect() as conn:
            detail = conn.execute(
                sa.text("SELECT status_detail FROM projects WHERE id = :id"), {"id": project_id}
            ).scalar_one()
        print(f"after the restart: {status}: {detail}")
        if status != "done":
            assert status == "failed" and detail, "a failure says why"
            pytest.fail(f"the run did not survive a Postgres restart: {detail}")
        assert_one_of_everything(engine, store, project_id)
        engine.dispose()
