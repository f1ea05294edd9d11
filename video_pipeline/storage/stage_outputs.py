"""Typed stage outputs in Postgres: one row per (project, stage), replaced on re-run."""

from __future__ import annotations

import hashlib
from typing import TypeVar

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.dialects.postgresql import insert

from video_pipeline.storage.tables import stage_outputs

M = TypeVar("M", bound=BaseModel)


def content_hash(value: BaseModel) -> str:
    return hashlib.sha256(value.model_dump_json().encode()).hexdigest()


def save_output(
    engine: sa.Engine, project_id: str, stage: str, value: BaseModel, run_id: str | None = None
) -> str:
    digest = content_hash(value)
    values = {
        "model": type(value).__name__,
        "payload": value.model_dump(mode="json"),
        "content_hash": digest,
        "run_id": run_id,
        "updated_at": sa.func.now(),
    }
    statement = insert(stage_outputs).values(project_id=project_id, stage=stage, **values)
    with engine.begin() as conn:
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[stage_outputs.c.project_id, stage_outputs.c.stage], set_=values
            )
        )
    return digest


def load_output(engine: sa.Engine, project_id: str, stage: str, model: type[M]) -> M:
    with engine.connect() as conn:
        payload = conn.execute(
            sa.select(stage_outputs.c.payload).where(
                stage_outputs.c.project_id == project_id, stage_outputs.c.stage == stage
            )
        ).scalar_one_or_none()
    if payload is None:
        raise LookupError(
            f"stage '{stage}' has no stored output for project {project_id}: materialize it first"
        )
    return model.model_validate(payload)
