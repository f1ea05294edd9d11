"""The whole job with `VIDEO_PIPELINE_PROVIDER=openai`: the real `openai` client over HTTP to
an OpenAI-compatible server on 127.0.0.1; usage and cost in Postgres, the response cache on
re-materialization, and the budget stop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from video_pipeline.settings import load_settings
from video_pipeline_tests.fake_openai import FakeOpenAI, Fault
from video_pipeline_tests.helpers import (
    execute_request,
    insert_project_sql,
    materialization_metadata,
    project_row,
    stopped_project,
    tick_intake,
)
from video_pipeline_tests.pipeline.test_end_to_end import demo_sources

CHAT = "/v1/chat/completions"
OPENAI_PATHS = (
    "/v1/chat/completions",
    "/v1/moderations",
    "/v1/embeddings",
    "/v1/audio/speech",
    "/v1/images/generations",
)


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def openai_defs(stack: dict[str, str], fake_server: FakeOpenAI) -> Iterator[Any]:
    from video_pipeline.definitions import build_definitions

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAI_API_KEY", "sk-test")
        patch.setenv("VIDEO_PIPELINE_PROVIDER", "openai")
        patch.setenv("OPENAI_BASE_URL", fake_server.base_url)
        patch.setenv("OPENAI_TIMEOUT_SECONDS", "20")
        yield build_definitions(load_settings(secrets_as_env_vars=True))


def request_count(server: FakeOpenAI) -> int:
    return sum(len(server.calls(path)) for path in OPENAI_PATHS)


def usage_rows(engine: sa.Engine, project_id: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT stage, capability, model, input_units, cost_usd, cached "
                    "FROM provider_usage WHERE project_id = :id ORDER BY id"
                ),
                {"id": project_id},
            ).all()
        )


def run_openai_project(
    stack: dict[str, str],
    engine: sa.Engine,
    defs: Any,
    instance: Any,
    brief: str = "A short explainer on how a honeybee colony works.",
    **settings: Any,
) -> tuple[str, Any]:
    with engine.begin() as conn:
        project_id = insert_project_sql(
            conn,
            owner="openai-owner",
            title="How honeybees run a hive",
            brief=brief,
            settings={"duration_seconds": 15, **settings},
            sources=demo_sources(),
        )
    request = next(
        r
        for r in tick_intake(defs, instance, stack["DATABASE_URL"])
        if r.partition_key == project_id
    )
    return project_id, execute_request(defs, instance, request)


def test_openai_run_records_cost_and_rematerialization_hits_the_cache(
    stack: dict[str, str],
    engine: sa.Engine,
    openai_defs: Any,
    instance: Any,
    fake_server: FakeOpenAI,
) -> None:
    project_id, first = run_openai_project(stack, engine, openai_defs, instance)

    with engine.connect() as conn:
        row = project_row(conn, project_id)
    assert first.success, row.status_detail
    assert row.status == "done"
    rows = usage_rows(engine, project_id)
    assert {r.capability for r in rows} >= {
        "research",
        "dna_profile",
        "script",
        "moderation",
        "embeddings",
        "speech",
        "images",
    }
    assert not any(r.cached for r in rows)
    assert sum(float(r.cost_usd) for r in rows) > 0
    research_meta = materialization_metadata(first, "research")
    assert research_meta["from_cache"] is False and research_meta["cost_usd"] > 0

    requests_before = request_count(fake_server)
    second = openai_defs.resolve_job_def("make_video").execute_in_process(
        partition_key=project_id, instance=instance, raise_on_error=False
    )

    assert second.success
    assert request_count(fake_server) == requests_before, "unchanged inputs must cost nothing"
    new_rows = usage_rows(engine, project_id)[len(rows) :]
    assert new_rows and all(r.cached and float(r.cost_usd) == 0 for r in new_rows)
    assert materialization_metadata(second, "script")["from_cache"] is True


def test_budget_stops_a_stage_before_it_spends(
    stack: dict[str, str],
    engine: sa.Engine,
    openai_defs: Any,
    instance: Any,
    fake_server: FakeOpenAI,
) -> None:
    chat_before = len(fake_server.calls("/v1/chat/completions"))

    # A brief of its own, so no request of this project can be answered from the cache.
    project_id, result = run_openai_project(
        stack,
        engine,
        openai_defs,
        instance,
        brief="Why honeybees swarm in spring, for gardeners.",
        max_cost_usd=0.0000001,
    )

    row = stopped_project(engine, project_id, result)
    assert row.status == "failed"
    assert "max_cost_usd" in row.status_detail and "raise max_cost_usd" in row.status_detail
    assert len(fake_server.calls("/v1/chat/completions")) == chat_before
    # The safety check ran first and its moderation is free; nothing that costs was sent.
    rows = usage_rows(engine, project_id)
    assert all(float(r.cost_usd) == 0 for r in rows)
    assert {(r.stage, r.capability) for r in rows if not r.cached} == {
        ("safety_check", "moderation")
    }


def test_rejected_key_fails_at_once_and_says_what_to_do(
    stack: dict[str, str],
    engine: sa.Engine,
    openai_defs: Any,
    instance: Any,
    fake_server: FakeOpenAI,
) -> None:
    chat_before = len(fake_server.calls("/v1/chat/completions"))
    fake_server.script(
        Fault(kind="status", status=401, message="Incorrect API key provided", path=CHAT)
    )

    project_id, result = run_openai_project(
        stack, engine, openai_defs, instance, brief="How bees survive the winter, for kids."
    )

    assert not result.success
    with engine.connect() as conn:
        row = project_row(conn, project_id)
        states = dict(
            conn.execute(
                sa.text("SELECT stage, state FROM stage_states WHERE project_id = :id"),
                {"id": project_id},
            ).all()
        )
    assert row.status == "failed"
    assert "Incorrect API key provided" in row.status_detail
    assert "OPENAI_API_KEY" in row.status_detail
    assert "provider_refused" in states.values()
    # A 401 is retried neither by the provider nor by the step's retry policy: at most the
    # refused request and the one of its sibling stage (research and dna_profile run side by
    # side) reached the server.
    assert len(fake_server.calls(CHAT)) <= chat_before + 2
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]


def test_a_script_that_cannot_fit_the_duration_stops_with_the_reason(
    stack: dict[str, str],
    engine: sa.Engine,
    openai_defs: Any,
    instance: Any,
    fake_server: FakeOpenAI,
) -> None:
    chat_before = len(fake_server.calls(CHAT))

    # The material holds far fewer facts than five minutes of narration need.
    project_id, result = run_openai_project(
        stack,
        engine,
        openai_defs,
        instance,
        brief="Everything about honeybees, in depth.",
        duration_seconds=300,
    )

    row = stopped_project(engine, project_id, result)
    assert row.status == "failed"
    assert row.status_detail.startswith("script: script does not fit the target")
    assert "300 s target" in row.status_detail
    script_requests = [
        r for r in fake_server.calls(CHAT)[chat_before:] if "narrated video" in str(r.body)
    ]
    assert len(script_requests) == 3, "a draft far off the length is rewritten twice"
