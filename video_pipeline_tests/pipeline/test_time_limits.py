"""Stage time limits, through the real job: a stage past its limit stops where it waits (an
HTTP read, an ffmpeg child), ends the project `failed` with the limit, and is not retried."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psutil
import pytest
import sqlalchemy as sa
from dagster import AssetKey

from video_pipeline.settings import load_settings
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline_tests.fake_openai import FakeOpenAI, Fault
from video_pipeline_tests.helpers import project_row
from video_pipeline_tests.pipeline.test_retry_budget import fails_once_at, new_project, step_events

CHAT = "/v1/chat/completions"


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@contextmanager
def limited_definitions(limits: dict[str, float], **env: str) -> Iterator[Any]:
    """Definitions with these stage limits; the environment (secrets resolved at run time
    included) stays set until the block ends."""
    from video_pipeline.definitions import build_definitions

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("VIDEO_PIPELINE_STAGE_TIME_LIMITS", json.dumps(limits))
        for key, value in env.items():
            patch.setenv(key, value)
        yield build_definitions(load_settings(secrets_as_env_vars=True))


def stage_state(engine: sa.Engine, project_id: str, stage: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT state, detail FROM stage_states WHERE project_id = :id AND stage = :s"),
            {"id": project_id, "s": stage},
        ).one()


def test_a_render_past_its_limit_fails_and_leaves_no_process(
    stack: dict[str, str], engine: sa.Engine, instance: Any, store: ObjectStore
) -> None:
    before = {child.pid for child in psutil.Process().children(recursive=True)}
    with limited_definitions({"render": 1.0}) as defs:
        project_id = fails_once_at(defs, engine, instance, stack, "render")

    message = "render took longer than 1 s, its time limit (VIDEO_PIPELINE_STAGE_TIME_LIMITS)"
    with engine.connect() as conn:
        row = project_row(conn, project_id)
    assert (row.status, row.status_detail) == ("failed", f"render: {message}")
    assert tuple(stage_state(engine, project_id, "render")) == ("failed", f"render: {message}")
    assert stage_state(engine, project_id, "script").state == "done"
    left = [
        child
        for child in psutil.Process().children(recursive=True)
        if child.pid not in before and child.status() != psutil.STATUS_ZOMBIE
    ]
    assert left == [], "the render's ffmpeg processes were killed"
    assert store.list_keys(f"projects/{project_id}/") == []


def test_research_waiting_on_a_silent_provider_stops_at_its_limit(
    stack: dict[str, str], engine: sa.Engine, instance: Any, fake_server: FakeOpenAI
) -> None:
    with limited_definitions(
        {"research": 1.0},
        VIDEO_PIPELINE_PROVIDER="openai",
        OPENAI_API_KEY="sk-test",
        OPENAI_BASE_URL=fake_server.base_url,
        OPENAI_TIMEOUT_SECONDS="60",
    ) as defs:
        project_id = new_project(engine, defs, instance, stack)
        fake_server.script(Fault("delay", seconds=30, path=CHAT))
        started = time.monotonic()
        result = defs.resolve_job_def("make_video").execute_in_process(
            partition_key=project_id,
            instance=instance,
            asset_selection=[AssetKey("sources"), AssetKey("safety_check"), AssetKey("research")],
            raise_on_error=False,
        )
        elapsed = time.monotonic() - started
    fake_server.clear_faults()

    assert not result.success
    assert len(fake_server.calls(CHAT)) == 1, "the limit stopped the first, unanswered call"
    assert elapsed < 20, "the stage stopped inside the read, long before the reply"
    events = step_events(result, "research")
    assert events.count("STEP_START") == 1 and "STEP_UP_FOR_RETRY" not in events
    with engine.connect() as conn:
        row = project_row(conn, project_id)
    assert row.status == "failed"
    assert row.status_detail.startswith("research: research took longer than 1 s")


def test_time_limits_are_validated() -> None:
    from video_pipeline.config import SettingsError

    with pytest.raises(SettingsError, match="VIDEO_PIPELINE_STAGE_TIME_LIMITS"):
        load_settings({"VIDEO_PIPELINE_STAGE_TIME_LIMITS": '{"rendr": 10}'})
    with pytest.raises(SettingsError, match="VIDEO_PIPELINE_STAGE_TIME_LIMITS"):
        load_settings({"VIDEO_PIPELINE_STAGE_TIME_LIMITS": '{"render": 0}'})
    assert load_settings({}).stages.seconds("render") == 3600
