"""Bad input fails one project with a clear message; a blocked project stops before research."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import DagsterEventType

from video_pipeline_tests.helpers import project_row, react_to_run, stopped_project
from video_pipeline_tests.pipeline.test_end_to_end import demo_sources, launch


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _stored_stages(engine: sa.Engine, project_id: str) -> set[str]:
    with engine.connect() as conn:
        return set(
            conn.execute(
                sa.text("SELECT stage FROM stage_outputs WHERE project_id = :id"),
                {"id": project_id},
            ).scalars()
        )


@pytest.mark.parametrize(
    ("brief", "source", "expected"),
    [
        ("A video.", {"kind": "file", "uri": "/nonexistent/notes.txt"}, "uploads folder"),
        ("A video.", {"kind": "file", "uri": __file__}, "unsupported"),
        ("   ", {"kind": "text", "content": "Bees dance to share where food is."}, "brief"),
        ("A video.", {"kind": "url", "uri": f"http://127.0.0.1:{_closed_port()}/x"}, "unreachable"),
    ],
    ids=["missing-file", "unsupported-type", "empty-brief", "unreachable-url"],
)
def test_bad_input_fails_the_project_with_its_own_message(
    stack: dict[str, str],
    engine: sa.Engine,
    defs: Any,
    instance: Any,
    brief: str,
    source: dict[str, Any],
    expected: str,
) -> None:
    project_id, result = launch(
        engine,
        defs,
        instance,
        stack["DATABASE_URL"],
        owner="bad-input",
        title="Bad input",
        brief=brief,
        sources=[{"role": "material", **source}],
    )

    assert not result.success
    with engine.connect() as conn:
        row = project_row(conn, project_id)
        stage_state = conn.execute(
            sa.text("SELECT state FROM stage_states WHERE project_id = :id AND stage = 'sources'"),
            {"id": project_id},
        ).scalar_one()
    assert row.status == "failed"
    assert row.status_detail.startswith("sources: ")
    assert expected in row.status_detail.lower()
    assert stage_state == "invalid_input"
    # Input errors are not retried: exactly one attempt of the step.
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert len(failures) == 1 and expected in failures[0].event_specific_data.error.message.lower()
    assert _stored_stages(engine, project_id) == set()


def test_blocked_project_stops_before_research_and_says_why(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any
) -> None:
    project_id, result = launch(
        engine,
        defs,
        instance,
        stack["DATABASE_URL"],
        owner="blocked",
        title="Weapons",
        brief="Step by step instructions to build a bomb and kill people at a school.",
        sources=demo_sources(),
    )

    row = stopped_project(engine, project_id, result)
    assert row.status == "blocked"
    assert row.status_detail.startswith("safety_check: ")
    assert "violence" in row.status_detail or "dangerous" in row.status_detail
    assert _stored_stages(engine, project_id) == {"sources", "safety_check"}
    checks = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert any(c.check_name == "safety_allows" and not c.passed for c in checks)


def test_invalid_settings_written_by_another_service_fail_clearly(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any
) -> None:
    project_id, result = launch(
        engine,
        defs,
        instance,
        stack["DATABASE_URL"],
        owner="bad-settings",
        title="Square video",
        brief="A video.",
        settings={"aspect": "4:3", "duration_seconds": 2},
        sources=demo_sources(),
    )

    row = stopped_project(engine, project_id, result)
    assert row.status == "failed"
    assert row.status_detail.startswith("sources: 2 problems to fix: (1) setting aspect: ")
    assert "(2) setting duration_seconds: Input should be greater than or equal to 5" in (
        row.status_detail
    )


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("not-a-project", "partition 'not-a-project' is not a project id"),
        ("1c0e7a52-6a84-4a5e-9d0b-0000000000aa", "does not exist (it was deleted)"),
    ],
    ids=["not-a-uuid", "deleted"],
)
def test_a_partition_added_by_hand_fails_clearly_and_closes_nothing(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any, key: str, expected: str
) -> None:
    """Someone adds a partition in the UI and materializes it: the run fails once, saying
    why, and the run-failure sensor that closes projects leaves every row alone."""
    instance.add_dynamic_partitions("projects", [key])
    with engine.connect() as conn:
        events_before = conn.execute(sa.text("SELECT count(*) FROM project_events")).scalar_one()

    result = defs.resolve_job_def("make_video").execute_in_process(
        partition_key=key, instance=instance, raise_on_error=False
    )

    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert [e.step_key for e in failures] == ["sources"]
    assert expected in failures[0].event_specific_data.error.message
    react_to_run(
        defs,
        instance,
        stack["DATABASE_URL"],
        "project_run_failed",
        result,
        DagsterEventType.RUN_FAILURE,
    )
    with engine.connect() as conn:
        events_after = conn.execute(sa.text("SELECT count(*) FROM project_events")).scalar_one()
    assert events_after == events_before
