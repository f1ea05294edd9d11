"""Reading and writing projects, their sources and their status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from video_pipeline.errors import PipelineInputError
from video_pipeline.models import Project, ProjectSettings, ProjectStatus, SourceInput
from video_pipeline.stages.validation import RawProject, RawSource, loaded_project
from video_pipeline.storage.events import STAGES
from video_pipeline.storage.ledger import Ledger, StageState
from video_pipeline.storage.tables import (
    is_project_id,
    project_sources,
    projects,
    renders,
    stage_states,
)


def create_project(
    engine: sa.Engine,
    *,
    owner_id: str,
    title: str,
    brief: str,
    settings: ProjectSettings,
    sources: Sequence[SourceInput],
) -> str:
    """Insert a project and its sources in one transaction; the sensor takes it from there."""
    with engine.begin() as conn:
        project_id = conn.execute(
            sa.insert(projects)
            .values(
                owner_id=owner_id,
                title=title,
                brief=brief,
                settings=settings.model_dump(mode="json", exclude_none=True),
            )
            .returning(projects.c.id)
        ).scalar_one()
        if sources:
            conn.execute(
                sa.insert(project_sources),
                [
                    {
                        "project_id": project_id,
                        "role": s.role,
                        "kind": s.kind,
                        "uri": s.uri,
                        "content": s.content,
                    }
                    for s in sources
                ],
            )
    return str(project_id)


def project_status(engine: sa.Engine, project_id: str) -> tuple[ProjectStatus, str | None] | None:
    """The project's status and its detail; None when there is no such project."""
    if not is_project_id(project_id):
        return None
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(projects.c.status, projects.c.status_detail).where(
                projects.c.id == project_id
            )
        ).one_or_none()
    return (row.status, row.status_detail) if row else None


def load_project(engine: sa.Engine, project_id: str) -> Project:
    """The project as the pipeline sees it; rows that cannot be represented become one
    PipelineInputError listing every problem (see `loaded_project`)."""
    if not is_project_id(project_id):
        raise PipelineInputError(f"'{project_id}' is not a project id (expected a UUID)")
    with engine.connect() as conn:
        row = conn.execute(sa.select(projects).where(projects.c.id == project_id)).one_or_none()
        if row is None:
            raise PipelineInputError(f"project {project_id} does not exist")
        source_rows = conn.execute(
            sa.select(project_sources)
            .where(project_sources.c.project_id == project_id)
            .order_by(project_sources.c.id)
        ).all()
    return loaded_project(
        RawProject(
            id=str(row.id),
            owner_id=row.owner_id,
            title=row.title,
            brief=row.brief,
            settings=row.settings,
            sources=[
                RawSource(id=s.id, role=s.role, kind=s.kind, uri=s.uri, content=s.content)
                for s in source_rows
            ],
        )
    )


def project_overview(engine: sa.Engine, project_id: str) -> dict[str, Any] | None:
    """Status, per-stage state and the video's URI, for `project show`."""
    with engine.connect() as conn:
        row = conn.execute(sa.select(projects).where(projects.c.id == project_id)).one_or_none()
        if row is None:
            return None
        stages = conn.execute(
            sa.select(stage_states)
            .where(stage_states.c.project_id == project_id)
            .order_by(stage_states.c.updated_at)
        ).all()
        render = conn.execute(
            sa.select(renders).where(renders.c.project_id == project_id)
        ).one_or_none()
        source_count = conn.execute(
            sa.select(sa.func.count())
            .select_from(project_sources)
            .where(project_sources.c.project_id == project_id)
        ).scalar_one()
    return {
        "id": str(row.id),
        "owner_id": row.owner_id,
        "title": row.title,
        "status": row.status,
        "status_detail": row.status_detail,
        "settings": row.settings,
        "sources": source_count,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "stages": {
            s.stage: {"state": s.state, "detail": s.detail, "run_id": s.run_id} for s in stages
        },
        **_video(render.video_uri if render else None, render.input_hash if render else None),
        "duration_seconds": render.duration_seconds if render else None,
    }


def _video(uri: str | None, input_hash: str | None) -> dict[str, str | None]:
    """The project's video, or the one that failed its check (recorded without the hash of
    its inputs, so that it is never reused), named apart."""
    passed = uri is not None and input_hash is not None
    return {"video_uri": uri if passed else None, "rejected_video_uri": None if passed else uri}


def list_projects(engine: sa.Engine, owner_id: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(
        projects.c.id,
        projects.c.owner_id,
        projects.c.title,
        projects.c.status,
        projects.c.status_detail,
        projects.c.created_at,
        renders.c.video_uri,
        renders.c.input_hash,
    ).select_from(projects.outerjoin(renders, renders.c.project_id == projects.c.id))
    if owner_id is not None:
        query = query.where(projects.c.owner_id == owner_id)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(projects.c.created_at.desc())).all()
    return [
        {
            "id": str(r.id),
            "owner_id": r.owner_id,
            "title": r.title,
            "status": r.status,
            "status_detail": r.status_detail,
            "created_at": r.created_at.isoformat(),
            **_video(r.video_uri, r.input_hash),
        }
        for r in rows
    ]


def failed_retryable_projects(engine: sa.Engine) -> list[str]:
    """Failed projects whose failing stage broke for a transient reason, not bad input."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(projects.c.id)
            .where(projects.c.status == "failed")
            .where(
                sa.exists().where(
                    stage_states.c.project_id == projects.c.id, stage_states.c.state == "failed"
                )
            )
        ).scalars()
        return [str(r) for r in rows]


_STOPPED: dict[str, ProjectStatus] = {
    "blocked": "blocked",
    "failed": "failed",
    "invalid_input": "failed",
    "provider_refused": "failed",
    "needs_review": "needs_review",
    "canceled": "canceled",
}
"""The project status that a stage's state stands for, for states that stop a project."""


def standing(engine: sa.Engine, project_id: str) -> tuple[ProjectStatus, str]:
    """What a project's stages say it is, for a run that ended without making its video (one
    that materialized some stages only): the first stage that stopped it, with that stage's
    reason; else `done` when its render is done; else `failed`, saying the video is missing."""
    with engine.connect() as conn:
        states = {
            row.stage: row
            for row in conn.execute(
                sa.select(stage_states.c.stage, stage_states.c.state, stage_states.c.detail).where(
                    stage_states.c.project_id == project_id
                )
            )
        }
        video_uri = conn.execute(
            sa.select(renders.c.video_uri).where(renders.c.project_id == project_id)
        ).scalar_one_or_none()
    for stage in STAGES:
        row = states.get(stage)
        if row is not None and row.state in _STOPPED:
            return _STOPPED[row.state], row.detail or f"{stage}: {row.state}"
    render = states.get("render")
    if render is not None and render.state == "done" and video_uri:
        return "done", f"video ready: {video_uri}"
    return "failed", (
        "render: the video was not made (the run did not include render); run the whole "
        f"project: video-pipeline project rerun {project_id}"
    )


REVIEWABLE_STAGES = ("safety_check", "script")


def review_project(engine: sa.Engine, project_id: str, *, approve: bool, note: str) -> str:
    """Record a person's decision on a project that waits in `needs_review`.

    Returns the stage that asked for review. Approval moves the project to `queued`, and the
    `resume_approved` sensor launches the stages after that one; rejection is final.
    """
    with engine.connect() as conn:
        status = conn.execute(
            sa.select(projects.c.status).where(projects.c.id == project_id)
        ).scalar_one_or_none()
        if status is None:
            raise ValueError(f"no project {project_id}")
        if status != "needs_review":
            raise ValueError(
                f"project {project_id} is '{status}', not 'needs_review': nothing to review"
            )
        stage = conn.execute(
            sa.select(stage_states.c.stage).where(
                stage_states.c.project_id == project_id,
                stage_states.c.state == "needs_review",
                stage_states.c.stage.in_(REVIEWABLE_STAGES),
            )
        ).scalar_one_or_none()
        if stage is None:
            raise ValueError(
                f"project {project_id} is 'needs_review', but neither safety_check nor script "
                "asked for a review (was its status set by hand?): nothing to approve; to "
                f"run it again: video-pipeline project cancel {project_id}, then project rerun"
            )
    state: StageState = "approved" if approve else "rejected"
    moved = Ledger(engine, project_id).move(
        "queued" if approve else "rejected",
        f"{stage}: {state} — {note}",
        stage=stage,
        stage_state=state,
        only_from=frozenset({"needs_review"}),
    )
    if not moved:
        raise ValueError(f"project {project_id} left 'needs_review' meanwhile: nothing to review")
    return stage


def approved_resumptions(engine: sa.Engine) -> list[tuple[str, str, str]]:
    """(project id, approved stage, approval time) of approved projects waiting to resume."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(stage_states.c.project_id, stage_states.c.stage, stage_states.c.updated_at)
            .join(projects, projects.c.id == stage_states.c.project_id)
            .where(projects.c.status == "queued", stage_states.c.state == "approved")
        ).all()
    return [(str(r.project_id), r.stage, r.updated_at.isoformat()) for r in rows]


def stage_approved(engine: sa.Engine, project_id: str, stage: str) -> bool:
    with engine.connect() as conn:
        state = conn.execute(
            sa.select(stage_states.c.state).where(
                stage_states.c.project_id == project_id, stage_states.c.stage == stage
            )
        ).scalar_one_or_none()
    return state == "approved"
