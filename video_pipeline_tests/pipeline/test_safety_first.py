"""The safety decision comes first: the input check judges the brief and every source before
research or style sends anything to a provider, so harmful content ends `blocked` with its
categories whatever its size, and only harmless material can end `failed` for being thin.

Projects are inserted by plain SQL, picked up by the intake sensor and run through the real
`make_video` job.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from dagster import AssetKey, DagsterEventType

from video_pipeline.samples import DEMO_DIR
from video_pipeline_tests.helpers import (
    execute_request,
    insert_project_sql,
    react_to_run,
    tick_intake,
)

PROSE = (DEMO_DIR / "honeybees.md").read_text("utf-8")
HARMFUL = (
    "I will kill you and everyone who helps you. "
    "Here I explain step by step how to build a pipe bomb in your kitchen."
)
BENIGN_BRIEF = "A short video about honeybees."
THIN = "Honeybees live in hives. Worker bees collect nectar from flowers."


def material(content: str) -> dict[str, Any]:
    return {"role": "material", "kind": "text", "content": content}


def reference(content: str) -> dict[str, Any]:
    return {"role": "reference", "kind": "text", "content": content}


CASES: dict[str, dict[str, Any]] = {
    "harmful-thin-material": {"brief": BENIGN_BRIEF, "sources": [material(HARMFUL)]},
    "harmful-brief": {"brief": HARMFUL, "sources": [material(PROSE)]},
    "harmful-reference": {
        "brief": BENIGN_BRIEF,
        "sources": [material(PROSE), reference(HARMFUL)],
    },
    "benign-thin-material": {"brief": BENIGN_BRIEF, "sources": [material(THIN)]},
}


@pytest.fixture(scope="module")
def runs(stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any) -> dict[str, Any]:
    """Each case's project id and the result of its run."""
    ids = {}
    with engine.begin() as conn:
        for name, case in CASES.items():
            ids[name] = insert_project_sql(
                conn, owner="safety-first", title="Safety first", settings={}, **case
            )
    requests = {r.partition_key: r for r in tick_intake(defs, instance, stack["DATABASE_URL"])}
    return {
        name: (pid, execute_request(defs, instance, requests[pid])) for name, pid in ids.items()
    }


def stored(engine: sa.Engine, project_id: str) -> dict[str, Any]:
    """The project row, its stage states and outputs, and the stages that called a provider."""
    with engine.connect() as conn:
        params = {"id": project_id}
        return {
            "project": conn.execute(
                sa.text("SELECT status, status_detail FROM projects WHERE id = :id"), params
            ).one(),
            "states": dict(
                conn.execute(
                    sa.text("SELECT stage, state FROM stage_states WHERE project_id = :id"), params
                ).all()
            ),
            "outputs": dict(
                conn.execute(
                    sa.text("SELECT stage, payload FROM stage_outputs WHERE project_id = :id"),
                    params,
                ).all()
            ),
            "usage": set(
                conn.execute(
                    sa.text(
                        "SELECT DISTINCT stage, capability FROM provider_usage "
                        "WHERE project_id = :id"
                    ),
                    params,
                ).all()
            ),
        }


def check_evaluations(result: Any) -> dict[str, bool]:
    return {
        e.event_specific_data.check_name: e.event_specific_data.passed
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }


@pytest.mark.parametrize(
    ("case", "origin"),
    [
        ("harmful-thin-material", "in source:"),
        ("harmful-brief", "in brief"),
        ("harmful-reference", "in source:"),
    ],
)
def test_harmful_content_is_blocked_before_research_whatever_its_size(
    runs: dict[str, Any], engine: sa.Engine, case: str, origin: str
) -> None:
    project_id, result = runs[case]
    rows = stored(engine, project_id)
    detail = rows["project"].status_detail

    assert not result.success
    assert rows["project"].status == "blocked", detail
    assert detail.startswith("safety_check: ")
    assert "too thin" not in detail
    for category in ("violence scored", "dangerous instructions scored"):
        assert category in detail, detail
    assert origin in detail
    assert "“i will kill you”" in detail and "build a pipe bomb" in detail
    assert rows["states"] == {"sources": "done", "safety_check": "blocked"}
    assert set(rows["outputs"]) == {"sources", "safety_check"}
    assert rows["outputs"]["safety_check"]["decision"] == "block"
    assert rows["outputs"]["safety_check"]["scope"] == "input"
    # Only the moderation saw the content: no stage after the check was asked anything.
    assert rows["usage"] == {("safety_check", "moderation")}
    assert check_evaluations(result) == {"safety_allows": False}
    steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_START"}
    assert steps == {"sources", "safety_check"}


def test_thin_harmless_material_still_fails_as_too_thin(
    runs: dict[str, Any], engine: sa.Engine
) -> None:
    project_id, result = runs["benign-thin-material"]
    rows = stored(engine, project_id)
    detail = rows["project"].status_detail

    assert not result.success
    assert rows["project"].status == "failed", detail
    assert detail.startswith("research: The material is too thin to research: ")
    assert "at least 5 are needed" in detail
    assert rows["states"]["safety_check"] == "done"
    assert rows["states"]["research"] == "invalid_input"
    assert rows["outputs"]["safety_check"]["decision"] == "allow"
    assert "research" not in rows["outputs"] and "script" not in rows["outputs"]
    assert check_evaluations(result)["safety_allows"] is True


def test_a_stage_materialized_on_its_own_keeps_a_block(
    runs: dict[str, Any], engine: sa.Engine, defs: Any, instance: Any
) -> None:
    """Asking for research (say, from the UI) after a block runs nothing on the content and
    leaves the project blocked, never failed."""
    project_id, _ = runs["harmful-thin-material"]

    result = defs.resolve_job_def("make_video").execute_in_process(
        partition_key=project_id,
        instance=instance,
        asset_selection=[AssetKey("research")],
        raise_on_error=False,
    )

    assert not result.success
    rows = stored(engine, project_id)
    detail = rows["project"].status_detail
    assert rows["project"].status == "blocked", detail
    assert detail.startswith("research: not started: the safety decision is 'block': ")
    assert "violence scored" in detail
    assert rows["states"] == {"sources": "done", "safety_check": "blocked", "research": "blocked"}
    assert set(rows["outputs"]) == {"sources", "safety_check"}
    assert rows["usage"] == {("safety_check", "moderation")}
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert len(failures) == 1, "a refusal on safety grounds is never retried"


def succeed_without_render(
    stack: dict[str, str], defs: Any, instance: Any, project_id: str, stages: list[str]
) -> None:
    """Materialize `stages` alone (the UI's "Materialize selected"), then let the run-success
    sensor close the project as it does in the daemon."""
    result = defs.resolve_job_def("make_video").execute_in_process(
        partition_key=project_id,
        instance=instance,
        asset_selection=[AssetKey(stage) for stage in stages],
    )
    assert result.success
    react_to_run(
        defs,
        instance,
        stack["DATABASE_URL"],
        "project_run_succeeded",
        result,
        DagsterEventType.RUN_SUCCESS,
    )


def test_a_run_of_some_stages_that_succeeds_leaves_the_project_as_its_stages_stand(
    runs: dict[str, Any], stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any
) -> None:
    """Never `done` without a video: a blocked project stays blocked, a failed one failed."""
    blocked, _ = runs["harmful-brief"]
    succeed_without_render(stack, defs, instance, blocked, ["sources"])
    project = stored(engine, blocked)["project"]
    assert project.status == "blocked", project.status_detail
    assert "violence scored" in project.status_detail

    thin, _ = runs["benign-thin-material"]
    succeed_without_render(stack, defs, instance, thin, ["sources", "safety_check"])
    project = stored(engine, thin)["project"]
    assert project.status == "failed", project.status_detail
    assert "research: The material is too thin to research" in project.status_detail


def test_a_stage_whose_input_was_never_made_fails_once_saying_which(
    runs: dict[str, Any], defs: Any, instance: Any
) -> None:
    """Materializing script alone for a project whose research never ran: no retries, the
    missing stage named."""
    project_id, _ = runs["benign-thin-material"]
    result = defs.resolve_job_def("make_video").execute_in_process(
        partition_key=project_id,
        instance=instance,
        asset_selection=[AssetKey("script")],
        raise_on_error=False,
    )
    assert not result.success
    kinds = [e.event_type_value for e in result.all_events]
    assert kinds.count("STEP_FAILURE") == 1 and "STEP_UP_FOR_RETRY" not in kinds
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "stage 'research' has no stored output" in str(failure.event_specific_data.error)
