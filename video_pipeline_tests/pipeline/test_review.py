"""A `review` safety decision pauses the project until a person approves or rejects it;
approval resumes it without running the finished stages again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from dagster import SensorResult, build_sensor_context

from video_pipeline.resources import DatabaseResource
from video_pipeline_tests.helpers import project_row, stage_states, stopped_project
from video_pipeline_tests.pipeline.test_end_to_end import demo_sources, launch

BORDERLINE = Path(__file__).resolve().parents[1] / "fixtures" / "borderline.txt"


def review_cli(action: str, project_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / "video-pipeline"), "project", action, project_id],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=60,
    )


def updated_at(engine: sa.Engine, project_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                sa.text("SELECT stage, updated_at FROM stage_outputs WHERE project_id = :id"),
                {"id": project_id},
            ).all()
        )


def start_review_project(stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any) -> str:
    project_id, result = launch(
        engine,
        defs,
        instance,
        stack["DATABASE_URL"],
        owner="review",
        title="A medieval siege",
        brief="A history explainer about a famous siege and the beekeepers who lived there.",
        settings={"duration_seconds": 15},
        sources=[
            {"role": "material", "kind": "text", "content": BORDERLINE.read_text()},
            *demo_sources(),
        ],
    )
    row = stopped_project(engine, project_id, result)
    assert row.status == "needs_review", row.status_detail
    assert row.status_detail.startswith("safety_check: ")
    return project_id


def test_approval_resumes_only_the_remaining_stages(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any
) -> None:
    project_id = start_review_project(stack, engine, defs, instance)
    before = updated_at(engine, project_id)
    # Nothing was researched or profiled while the project waited for a person.
    assert set(before) == {"sources", "safety_check"}
    assert stage_states(engine, project_id) == {"sources": "done", "safety_check": "needs_review"}

    approved = review_cli("approve", project_id)
    assert approved.returncode == 0, approved.stderr
    with engine.connect() as conn:
        assert project_row(conn, project_id).status == "queued"

    sensor = defs.resolve_sensor_def("resume_approved")
    context = build_sensor_context(
        instance=instance,
        resources={"db": DatabaseResource(url=stack["DATABASE_URL"])},
        definitions=defs,
    )
    result = sensor(context)
    assert isinstance(result, SensorResult)
    requests = [r for r in result.run_requests or [] if r.partition_key == project_id]
    assert len(requests) == 1
    resumed = {"research", "dna_profile", "script", "embeddings", "render"}
    assert {key.path[-1] for key in requests[0].asset_selection} == resumed

    run = defs.resolve_job_def("make_video").execute_in_process(
        partition_key=project_id,
        instance=instance,
        asset_selection=requests[0].asset_selection,
        tags=dict(requests[0].tags),
        raise_on_error=False,
    )

    assert run.success
    after = updated_at(engine, project_id)
    assert set(after) == set(before) | resumed
    assert {k: after[k] for k in before} == before, "finished stages must not run again"
    with engine.connect() as conn:
        assert project_row(conn, project_id).status == "done"
    states = stage_states(engine, project_id)
    assert states.pop("safety_check") == "approved"
    assert states == dict.fromkeys(["sources", *resumed], "done")


def test_rejection_is_final(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any
) -> None:
    project_id = start_review_project(stack, engine, defs, instance)

    rejected = review_cli("reject", project_id)

    assert rejected.returncode == 0, rejected.stderr
    with engine.connect() as conn:
        row = project_row(conn, project_id)
    assert row.status == "rejected"
    again = review_cli("approve", project_id)
    assert again.returncode == 2 and "not 'needs_review'" in again.stderr
