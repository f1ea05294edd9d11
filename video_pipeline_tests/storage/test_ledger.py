"""The status owner: its transition table, the run that holds a project, the history."""

from __future__ import annotations

import itertools
import uuid
from typing import get_args

import pytest
import sqlalchemy as sa

from video_pipeline.automation import OPEN
from video_pipeline.models import ProjectSettings, ProjectStatus
from video_pipeline.storage.cancel import pending_cancels
from video_pipeline.storage.events import project_history as history
from video_pipeline.storage.ledger import DETAIL_CHARS, TRANSITIONS, Ledger, allowed, mark_queued
from video_pipeline.storage.partitions import request_rerun
from video_pipeline.storage.projects import create_project

STATUSES: tuple[ProjectStatus, ...] = get_args(ProjectStatus)


def new_project(engine: sa.Engine) -> str:
    return create_project(
        engine, owner_id="ledger", title="t", brief="b", settings=ProjectSettings(), sources=[]
    )


def force(engine: sa.Engine, project_id: str, status: str, run_id: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE projects SET status = :s, run_id = :r WHERE id = :id"),
            {"s": status, "r": run_id, "id": project_id},
        )


def status_of(engine: sa.Engine, project_id: str) -> tuple[str, str | None]:
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT status, status_detail FROM projects WHERE id = :id"),
            {"id": project_id},
        ).one()
    return row.status, row.status_detail


def test_the_table_covers_every_status() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    assert all(set(targets) <= set(STATUSES) for targets in TRANSITIONS.values())


@pytest.mark.parametrize(
    ("current", "to"), [(c, t) for c in STATUSES for t in sorted(TRANSITIONS[c])]
)
def test_every_legal_transition_is_written(engine: sa.Engine, current: str, to: str) -> None:
    project_id = new_project(engine)
    force(engine, project_id, current)
    assert Ledger(engine, project_id, run_id=str(uuid.uuid4())).move(to, f"to {to}")  # type: ignore[arg-type]
    assert status_of(engine, project_id) == (to, f"to {to}")
    assert history(engine, project_id)[-1]["to_status"] == to


ILLEGAL = [(c, t) for c, t in itertools.product(STATUSES, STATUSES) if not allowed(c, t) and c != t]


@pytest.mark.parametrize(("current", "to"), ILLEGAL[::3])
def test_illegal_transitions_are_refused_and_logged(
    engine: sa.Engine, current: str, to: str
) -> None:
    project_id = new_project(engine)
    force(engine, project_id, current)
    warnings: list[str] = []
    moved = Ledger(engine, project_id, warn=warnings.append).move(to)  # type: ignore[arg-type]
    assert not moved
    assert status_of(engine, project_id)[0] == current
    assert warnings and "refused" in warnings[0] and "not a legal transition" in warnings[0]
    assert history(engine, project_id) == []


def test_a_stale_run_cannot_move_a_finished_project_back_to_running(engine: sa.Engine) -> None:
    project_id = new_project(engine)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    assert Ledger(engine, project_id, first).move("running", "research: running")
    assert Ledger(engine, project_id, first).move("done", "video ready")
    warnings: list[str] = []
    stale = Ledger(engine, project_id, first, warn=warnings.append)
    assert not stale.move("running", "render: running")
    assert status_of(engine, project_id) == ("done", "video ready")
    assert "already ended the project" in warnings[0]

    # A new run may run it again on purpose; the old one, superseded, may not write.
    assert Ledger(engine, project_id, second).move("running", "sources: running")
    assert not Ledger(engine, project_id, first, warn=warnings.append).move("failed", "late")
    assert not Ledger(engine, project_id, first, warn=warnings.append).stage("render", "done")
    assert status_of(engine, project_id) == ("running", "sources: running")
    assert "stale" in warnings[1]


def test_a_sibling_stage_does_not_overwrite_the_failure_of_its_run(engine: sa.Engine) -> None:
    project_id = new_project(engine)
    run = Ledger(engine, project_id, str(uuid.uuid4()))
    assert run.move("running", "research: running", stage="research", stage_state="running")
    assert run.move("failed", "research: too thin", stage="research", stage_state="failed")
    assert not run.move("running", "dna_profile: running")
    assert status_of(engine, project_id) == ("failed", "research: too thin")


def test_queueing_is_one_pass_and_records_history(engine: sa.Engine) -> None:
    ids = [new_project(engine) for _ in range(3)]
    force(engine, ids[2], "running")
    assert sorted(mark_queued(engine, ids)) == sorted(ids[:2])
    assert mark_queued(engine, ids) == []
    assert [(e["from_status"], e["to_status"]) for e in history(engine, ids[0])] == [
        ("new", "queued")
    ]
    assert history(engine, ids[2]) == []


def test_a_late_event_of_the_run_before_a_rerun_is_refused(engine: sa.Engine) -> None:
    """Run A ends canceled; the project is rerun; the run-status sensor closing run A reaches
    the ledger only now and must not cancel the rerun."""
    project_id = new_project(engine)
    first = str(uuid.uuid4())
    assert Ledger(engine, project_id, run_id=first).move("running", "script: running")
    assert Ledger(engine, project_id).move("canceled", "script: canceled by ops at 12:00")
    request_rerun(engine, project_id)
    assert mark_queued(engine, [project_id]) == [project_id]  # the intake took the rerun

    late = Ledger(engine, project_id, run_id=first, warn=lambda _: None)
    assert not late.move("canceled", f"run {first[:8]} was canceled", only_from=OPEN)
    assert status_of(engine, project_id)[0] == "queued"
    rerun = str(uuid.uuid4())
    assert Ledger(engine, project_id, run_id=rerun).move("running", "sources: running")


def cancel_request(engine: sa.Engine, project_id: str) -> tuple[object, object]:
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT cancel_requested_at, cancel_requested_by FROM projects WHERE id = :id"),
            {"id": project_id},
        ).one()
    return row.cancel_requested_at, row.cancel_requested_by


def test_a_cancel_asked_of_an_ended_project_does_not_cancel_its_next_attempt(
    engine: sa.Engine,
) -> None:
    project_id = new_project(engine)
    force(engine, project_id, "done")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE projects SET cancel_requested_at = now(), cancel_requested_by = 'late' "
                "WHERE id = :id"
            ),
            {"id": project_id},
        )
    assert Ledger(engine, project_id, run_id=str(uuid.uuid4())).move("running", "sources: running")
    assert cancel_request(engine, project_id) == (None, None)
    assert project_id not in {request.project_id for request in pending_cancels(engine)}


def test_a_run_records_no_stage_on_a_project_canceled_under_it(engine: sa.Engine) -> None:
    """The cancel marks the project first; the run's stage that ends afterwards stays
    canceled instead of being written done."""
    project_id, run_id = new_project(engine), str(uuid.uuid4())
    ledger = Ledger(engine, project_id, run_id=run_id)
    assert ledger.move("running", "render: running", stage="render", stage_state="running")
    assert Ledger(engine, project_id).move(
        "canceled", "render: canceled by svc", stage="render", stage_state="canceled"
    )
    assert not ledger.stage("render", "done")
    with engine.connect() as conn:
        state = conn.execute(
            sa.text("SELECT state FROM stage_states WHERE project_id = :id AND stage = 'render'"),
            {"id": project_id},
        ).scalar_one()
    assert state == "canceled"


def test_a_detail_is_stored_without_terminal_controls_and_cut_to_a_readable_length(
    engine: sa.Engine,
) -> None:
    project_id = new_project(engine)
    ledger = Ledger(engine, project_id, run_id=str(uuid.uuid4()))
    dump = "render: ffmpeg said:\n" + "[h264 @ 0x5] error\x1b[31m\r\n" * 500
    assert ledger.move("running", "sources: canceled by user\n\x1b[2J\x07x")
    assert status_of(engine, project_id)[1] == "sources: canceled by user\n [2J x"
    assert ledger.move("failed", dump, stage="render", stage_state="failed")
    detail = status_of(engine, project_id)[1]
    assert detail is not None and len(detail) <= DETAIL_CHARS
    assert "\x1b" not in detail and "\r" not in detail
    assert detail.startswith("render: ffmpeg said:\n[h264 @ 0x5] error")
    assert detail.endswith("(cut; the run's log has all of it)")
