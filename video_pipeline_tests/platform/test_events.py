"""Every status transition lands in project_events, in the same transaction as the status."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from typer.testing import CliRunner

from video_pipeline.cli import app
from video_pipeline.storage.events import project_history
from video_pipeline.storage.ledger import Ledger
from video_pipeline.storage.projects import review_project
from video_pipeline_tests.helpers import insert_project_sql


def test_a_run_leaves_its_history_and_project_show_prints_it(
    engine: sa.Engine, finished_projects: list[str]
) -> None:
    project_id = finished_projects[0]
    history = project_history(engine, project_id)

    transitions = [(e["from_status"], e["to_status"]) for e in history]
    assert transitions[0] == ("new", "queued")
    assert ("queued", "running") in transitions
    assert transitions[-1][1] == "done"
    started = [e["stage"] for e in history if e["to_status"] == "running"]
    assert {"sources", "research", "script", "render"} <= set(started)
    with engine.connect() as conn:
        status = conn.execute(
            sa.text("SELECT status FROM projects WHERE id = :id"), {"id": project_id}
        ).scalar_one()
    assert status == history[-1]["to_status"]

    shown = CliRunner().invoke(app, ["project", "show", project_id])
    assert shown.exit_code == 0, shown.output
    assert "history:" in shown.output
    assert "new → queued" in shown.output and "running → done" in shown.output
    as_json = CliRunner().invoke(app, ["project", "show", project_id, "--json"])
    shown_history = json.loads(as_json.output)["history"]
    assert [e["to_status"] for e in shown_history] == [e["to_status"] for e in history]


def test_a_refused_transition_records_nothing_and_review_records_the_decision(
    engine: sa.Engine,
) -> None:
    with engine.begin() as conn:
        project_id = insert_project_sql(conn, owner="platform-events", title="T", brief="B")
    run = Ledger(engine, project_id, run_id="0f5c6f0e-run")
    assert not run.move("done", "x", only_from=frozenset({"running"}))
    assert project_history(engine, project_id) == []

    assert run.move("running", "safety_check: running")
    assert run.move(
        "needs_review",
        "safety_check: borderline",
        stage="safety_check",
        stage_state="needs_review",
    )
    review_project(engine, project_id, approve=True, note="fine")

    history: list[dict[str, Any]] = project_history(engine, project_id)
    assert [(e["from_status"], e["to_status"], e["stage"]) for e in history] == [
        ("new", "running", "safety_check"),
        ("running", "needs_review", "safety_check"),
        ("needs_review", "queued", "safety_check"),
    ]
    assert history[2]["reason"] == "safety_check: approved — fine"
