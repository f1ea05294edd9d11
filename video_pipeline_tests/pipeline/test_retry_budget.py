"""One retry budget per provider call, through the real job: a server that answers 503
forever sees exactly the stated attempts; deterministic and interrupted steps run once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import pytest
import sqlalchemy as sa
from dagster import AssetKey, DagsterInstance

from video_pipeline.providers.openai.client import RetrySettings
from video_pipeline.settings import load_settings
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline_tests.fake_openai import FakeOpenAI, Fault
from video_pipeline_tests.helpers import insert_project_sql, project_row, tick_intake
from video_pipeline_tests.pipeline.test_end_to_end import demo_sources

CHAT = "/v1/chat/completions"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


def new_project(engine: sa.Engine, defs: Any, instance: Any, stack: dict[str, str]) -> str:
    with engine.begin() as conn:
        project_id = insert_project_sql(
            conn,
            owner="budget",
            title="How honeybees run a hive",
            brief="A short explainer on how a honeybee colony works.",
            settings={"duration_seconds": 15},
            sources=demo_sources(),
        )
    tick_intake(defs, instance, stack["DATABASE_URL"])
    return project_id


def step_events(result: Any, step: str) -> list[str]:
    return [e.event_type_value for e in result.all_events if e.step_key == step]


def fails_once_at(
    defs: Any, engine: sa.Engine, instance: Any, stack: dict[str, str], step: str
) -> str:
    """A new project run through the whole job, which fails with `step` attempted once."""
    project_id = new_project(engine, defs, instance, stack)
    result = defs.resolve_job_def("make_video").execute_in_process(
        partition_key=project_id, instance=instance, raise_on_error=False
    )
    assert not result.success
    events = step_events(result, step)
    assert events.count("STEP_START") == 1 and "STEP_UP_FOR_RETRY" not in events
    return project_id


def test_a_server_failing_forever_sees_exactly_the_budget_for_one_call(
    stack: dict[str, str], engine: sa.Engine, instance: Any, fake_server: FakeOpenAI
) -> None:
    from video_pipeline.definitions import build_definitions

    with openai_env(fake_server):
        defs = build_definitions(load_settings(secrets_as_env_vars=True))
        project_id = new_project(engine, defs, instance, stack)
        fake_server.script(*[Fault(kind="status", status=503, path=CHAT) for _ in range(50)])
        result = defs.resolve_job_def("make_video").execute_in_process(
            partition_key=project_id,
            instance=instance,
            asset_selection=[AssetKey("sources"), AssetKey("safety_check"), AssetKey("research")],
            raise_on_error=False,
        )
        fake_server.clear_faults()

    budget = RetrySettings().max_attempts
    assert len(fake_server.calls(CHAT)) == budget == 5
    assert not result.success
    assert step_events(result, "research").count("STEP_START") == 1
    assert "STEP_UP_FOR_RETRY" not in step_events(result, "research")
    with engine.connect() as conn:
        row = project_row(conn, project_id)
    assert row.status == "failed"
    assert f"after {budget} attempts" in row.status_detail and "HTTP 503" in row.status_detail


def test_an_outage_shorter_than_the_budget_is_waited_out(
    stack: dict[str, str], engine: sa.Engine, instance: Any, fake_server: FakeOpenAI
) -> None:
    """Every attempt but the last of a call fails: the project still completes, and each
    failed attempt is on record."""
    from video_pipeline.definitions import build_definitions

    failing = RetrySettings().max_attempts - 1
    with openai_env(fake_server):
        defs = build_definitions(load_settings(secrets_as_env_vars=True))
        project_id = new_project(engine, defs, instance, stack)
        fake_server.script(*[Fault(kind="status", status=503, path=CHAT) for _ in range(failing)])
        result = defs.resolve_job_def("make_video").execute_in_process(
            partition_key=project_id, instance=instance, raise_on_error=False
        )

    assert result.success
    with engine.connect() as conn:
        assert project_row(conn, project_id).status == "done"
        errors = conn.execute(
            sa.text(
                "SELECT error, count(*) FROM provider_usage WHERE project_id = :id "
                "AND error IS NOT NULL GROUP BY error"
            ),
            {"id": project_id},
        ).all()
    assert [tuple(row) for row in errors] == [("http_503", failing)]


@contextmanager
def openai_env(fake_server: FakeOpenAI) -> Iterator[None]:
    """The OpenAI providers against the fake server, with short waits between attempts."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAI_API_KEY", "sk-test")
        patch.setenv("VIDEO_PIPELINE_PROVIDER", "openai")
        patch.setenv("OPENAI_BASE_URL", fake_server.base_url)
        patch.setenv("VIDEO_PIPELINE_OPENAI_BACKOFF_SECONDS", "0.2")
        yield


def test_a_render_error_is_attempted_once(
    stack: dict[str, str], engine: sa.Engine, instance: Any
) -> None:
    from video_pipeline.definitions import build_definitions

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIDEO_PIPELINE_X264_PRESET", "no-such-preset")
        defs = build_definitions(load_settings())
    project_id = fails_once_at(defs, engine, instance, stack, "render")
    with engine.connect() as conn:
        row = project_row(conn, project_id)
    assert row.status == "failed" and row.status_detail.startswith("render: ")
    assert "ffmpeg failed with exit code" in row.status_detail


def _render_encoder(parent: psutil.Process) -> psutil.Process | None:
    for child in parent.children(recursive=True):
        try:
            cmdline = child.cmdline()
        except psutil.NoSuchProcess:
            continue
        if cmdline and "ffmpeg" in cmdline[0] and any(a.endswith("video.mp4") for a in cmdline):
            return child
    return None


def test_an_interrupted_run_is_canceled_not_retried(
    stack: dict[str, str],
    engine: sa.Engine,
    instance: DagsterInstance,
    defs: Any,
    store: ObjectStore,
) -> None:
    project_id = new_project(engine, defs, instance, stack)
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster"),
            "asset",
            "materialize",
            "-m",
            "video_pipeline.definitions",
            "--select",
            "*",
            "--partition",
            project_id,
        ],
        env=os.environ.copy(),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    parent = psutil.Process(process.pid)
    deadline = time.monotonic() + 240
    encoder = None
    while encoder is None and time.monotonic() < deadline and process.poll() is None:
        encoder = _render_encoder(parent)
        time.sleep(0.1)
    assert encoder is not None, "the render's ffmpeg never started"
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) != 0
    assert not encoder.is_running() or encoder.status() == psutil.STATUS_ZOMBIE

    with engine.connect() as conn:
        row = project_row(conn, project_id)
        render_state = conn.execute(
            sa.text("SELECT state FROM stage_states WHERE project_id = :id AND stage = 'render'"),
            {"id": project_id},
        ).scalar_one()
    assert (row.status, render_state) == ("canceled", "canceled")
    assert row.status_detail == "render: the run was terminated"
    run = next(r for r in instance.get_runs() if r.tags.get("dagster/partition") == project_id)
    types = [
        e.dagster_event.event_type_value
        for e in instance.all_logs(run.run_id)
        if e.dagster_event is not None and e.dagster_event.step_key == "render"
    ]
    assert types.count("STEP_START") == 1 and "STEP_UP_FOR_RETRY" not in types
    assert f"projects/{project_id}/video.mp4" not in store.list_keys(f"projects/{project_id}/")
