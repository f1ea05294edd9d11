"""The one owner of project and stage status.

Every status change goes through a `Ledger` bound to a project (and, inside a run, to that
run). A move is written with its history row in one transaction, and only when the
transition table allows it and the run still holds the project; anything else is refused
and logged, so a stale process cannot move a finished project back to `running`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from video_pipeline.models import ProjectStatus
from video_pipeline.storage.events import record_event, stage_of
from video_pipeline.storage.tables import is_project_id, project_events, projects, stage_states

StageState = Literal[
    "running",
    "retrying",
    "done",
    "failed",
    "invalid_input",
    "provider_refused",
    "blocked",
    "needs_review",
    "approved",
    "rejected",
    "canceled",
]

TERMINAL: frozenset[ProjectStatus] = frozenset(
    {"done", "failed", "blocked", "rejected", "canceled"}
)

RERUN: frozenset[ProjectStatus] = frozenset({"new", "queued", "running"})
TRANSITIONS: Mapping[ProjectStatus, frozenset[ProjectStatus]] = {
    "new": frozenset({"queued", "deferred", "running", "failed", "canceled"}),
    # Over a quota: waits, and goes back to `new` when the quota allows it again.
    "deferred": frozenset({"new", "deferred", "canceled"}),
    "queued": frozenset({"running", "failed", "canceled"}),
    "running": frozenset({"running", "done", "failed", "blocked", "needs_review", "canceled"}),
    "needs_review": frozenset({"queued", "rejected", "canceled"}),
    # A finished project runs again only on purpose: a new run, the retry schedule, the UI.
    "done": RERUN,
    "failed": RERUN,
    "blocked": RERUN,
    "canceled": RERUN,
    # A person rejected it: only an explicit rerun (`project rerun`) starts it again.
    "rejected": frozenset({"new"}),
}
"""Which project status may follow which. `running` → `running` updates the detail."""

logger = logging.getLogger(__name__)


def allowed(current: ProjectStatus, to: ProjectStatus) -> bool:
    return to in TRANSITIONS[current]


DETAIL_CHARS = 2000
"""A status detail is read in a table row and a webhook: a tool's whole output is in the
run's log, not here."""
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def readable(detail: str | None) -> str | None:
    """`detail` without terminal control characters (a requester's name may carry them),
    cut to DETAIL_CHARS."""
    if detail is None:
        return None
    detail = _CONTROLS.sub(" ", detail)
    if len(detail) > DETAIL_CHARS:
        return detail[: DETAIL_CHARS - 40] + " … (cut; the run's log has all of it)"
    return detail


@dataclass(frozen=True)
class Refusal:
    """Why a move was not written."""

    reason: str


@dataclass(frozen=True)
class Ledger:
    """Status writes for one project, as one run (or, with `run_id=None`, as a person or
    the platform outside any run)."""

    engine: sa.Engine
    project_id: str
    run_id: str | None = None
    warn: Callable[[str], None] = field(default=logger.warning)

    def move(
        self,
        to: ProjectStatus,
        detail: str | None = None,
        *,
        stage: str | None = None,
        stage_state: StageState | None = None,
        only_from: frozenset[ProjectStatus] | None = None,
        columns: Mapping[str, object] | None = None,
    ) -> bool:
        """Move the project to `to` (and `stage` to `stage_state`) if allowed; the history
        row, the status and the stage state are written together or not at all.

        `only_from` narrows the legal sources further, without a warning when the project is
        elsewhere (a run-status sensor closing only what is still open). `columns` are
        other columns of the project row written in the same update (a rerun's count)."""
        detail = readable(detail)
        with self.engine.begin() as conn:
            row = self._locked(conn)
            if row is None:
                self.warn(f"project {self.project_id} does not exist: {to} not recorded")
                return False
            if only_from is not None and row.status not in only_from:
                return False
            refusal = self._refusal(conn, row.status, row.run_id, to)
            if refusal is not None:
                self.warn(
                    f"project {self.project_id}: {row.status} → {to} refused "
                    f"({refusal.reason}); not recorded: {detail}"
                )
                return False
            if stage is not None and stage_state is not None:
                self._write_stage(conn, stage, stage_state, detail)
            values: dict[str, object] = {
                **(columns or {}),
                "status": to,
                "status_detail": detail,
                "updated_at": sa.func.now(),
            }
            if row.status in TERMINAL and to not in TERMINAL:
                # A new attempt: a cancel asked while the project had ended does nothing.
                values.update(cancel_requested_at=None, cancel_requested_by=None)
            if self.run_id is not None:
                values["run_id"] = self.run_id
            conn.execute(sa.update(projects).where(projects.c.id == self.project_id).values(values))
            # Every accepted move is history, a stage's start included: metrics time the
            # stages from these rows.
            record_event(
                conn,
                project_id=self.project_id,
                from_status=row.status,
                to_status=to,
                stage=stage or stage_of(detail),
                reason=detail,
                run_id=self.run_id,
            )
        return True

    def stage(self, stage: str, state: StageState, detail: str | None = None) -> bool:
        """Record a stage's state without moving the project (e.g. `retrying`, `done`);
        refused when this run no longer holds the project."""
        detail = readable(detail)
        with self.engine.begin() as conn:
            row = self._locked(conn)
            if row is None:
                return False
            if self.run_id is not None and row.run_id not in (None, self.run_id):
                self.warn(
                    f"project {self.project_id}: stage {stage} → {state} refused (run "
                    f"{self.run_id[:8]} no longer holds the project; {row.run_id[:8]} does)"
                )
                return False
            if self.run_id is not None and row.status == "canceled" and state != "canceled":
                self.warn(
                    f"project {self.project_id}: stage {stage} → {state} refused (the project "
                    "was canceled)"
                )
                return False
            self._write_stage(conn, stage, state, detail)
        return True

    def _locked(self, conn: sa.Connection) -> Any:
        """The project's status and holding run, locked until the transaction ends; None
        when there is no such project (a partition key that is not a project id included)."""
        if not is_project_id(self.project_id):
            return None
        return conn.execute(
            sa.select(projects.c.status, projects.c.run_id)
            .where(projects.c.id == self.project_id)
            .with_for_update()
        ).one_or_none()

    def _write_stage(
        self, conn: sa.Connection, stage: str, state: StageState, detail: str | None
    ) -> None:
        values = {"state": state, "detail": detail, "run_id": self.run_id}
        statement = insert(stage_states).values(
            project_id=self.project_id, stage=stage, updated_at=sa.func.now(), **values
        )
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=[stage_states.c.project_id, stage_states.c.stage],
                set_={**values, "updated_at": sa.func.now()},
            )
        )

    def _refusal(
        self,
        conn: sa.Connection,
        current: ProjectStatus,
        holder: str | None,
        to: ProjectStatus,
    ) -> Refusal | None:
        if not allowed(current, to):
            return Refusal(f"{current} → {to} is not a legal transition")
        if self.run_id is None or self.run_id == holder:
            if self.run_id is not None and current in TERMINAL:
                return Refusal(f"run {self.run_id[:8]} already ended the project as {current}")
            return None
        # Another run (or none) holds the project: only a run that has not written for this
        # project before may take it over; an older one is a stale process.
        if self._has_written(conn):
            return Refusal(
                f"run {self.run_id[:8]} is stale: "
                + (f"run {holder[:8]} holds the project" if holder else "it was superseded")
            )
        if to != "running" and current not in TERMINAL and holder is not None:
            return Refusal(f"run {holder[:8]} holds the project")
        return None

    def _has_written(self, conn: sa.Connection) -> bool:
        return (
            conn.execute(
                sa.select(sa.literal(1))
                .where(
                    project_events.c.project_id == self.project_id,
                    project_events.c.run_id == self.run_id,
                )
                .limit(1)
            ).first()
            is not None
        )


def stage_in_flight(engine: sa.Engine, project_id: str, run_id: str | None = None) -> str | None:
    """The stage that was started last and has not ended (of run `run_id`, when given):
    the one a cancel or a dead run's process stopped."""
    if not is_project_id(project_id):
        return None
    query = (
        sa.select(stage_states.c.stage)
        .where(
            stage_states.c.project_id == project_id,
            stage_states.c.state.in_(("running", "retrying")),
        )
        .order_by(stage_states.c.updated_at.desc())
        .limit(1)
    )
    if run_id is not None:
        query = query.where(stage_states.c.run_id == run_id)
    with engine.connect() as conn:
        return conn.execute(query).scalar_one_or_none()


def mark_queued(engine: sa.Engine, project_ids: Sequence[str]) -> list[str]:
    """`new` → `queued` for each of `project_ids` still new, with its history row; returns
    the ones moved. The intake sensor calls this once per tick for the whole batch."""
    if not project_ids:
        return []
    detail = "waiting for a run slot"
    with engine.begin() as conn:
        moved = [
            str(pid)
            for pid in conn.execute(
                sa.update(projects)
                .where(projects.c.id.in_(list(project_ids)), projects.c.status == "new")
                .values(status="queued", status_detail=detail, updated_at=sa.func.now())
                .returning(projects.c.id)
            ).scalars()
        ]
        if moved:
            conn.execute(
                sa.insert(project_events),
                [
                    {
                        "project_id": pid,
                        "from_status": "new",
                        "to_status": "queued",
                        "reason": detail,
                    }
                    for pid in moved
                ],
            )
    return moved
