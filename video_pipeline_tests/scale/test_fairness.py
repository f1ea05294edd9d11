"""Fair, prioritised run queue, one run per project, and the runs of canceled projects
stopped: projects inserted as rows, run requests from the real intake sensor, runs queued on
the real instance (dagster.yaml's limits), and the order in which the daemon's own
queued-run coordinator dequeues them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from dagster import (
    DagsterEvent,
    DagsterEventType,
    DagsterRunStatus,
    RunsFilter,
    build_sensor_context,
)
from dagster._core.remote_origin import (
    RegisteredCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)

from video_pipeline.resources import DatabaseResource
from video_pipeline.storage.cancel import mark_canceled, pending_cancels, request_cancel
from video_pipeline_tests.helpers import insert_project_sql, tick_intake


def _insert(engine: sa.Engine, owner: str, count: int, priority: str = "normal") -> list[str]:
    with engine.begin() as conn:
        return [
            insert_project_sql(
                conn,
                owner=owner,
                title=f"{owner} {i}",
                brief="fairness",
                settings={"priority": priority},
            )
            for i in range(count)
        ]


def _queue(defs: Any, instance: Any, database_url: str, ours: set[str]) -> dict[str, str]:
    """Tick the sensor and queue the runs it requested for `ours` as the daemon does (other
    tests may have left projects for intake); run id → project."""
    job = defs.resolve_job_def("make_video")
    origin = RemoteJobOrigin(
        repository_origin=RemoteRepositoryOrigin(
            code_location_origin=RegisteredCodeLocationOrigin("video_pipeline"),
            repository_name="__repository__",
        ),
        job_name="make_video",
    )
    queued = {}
    for request in tick_intake(defs, instance, database_url):
        if request.partition_key not in ours:
            continue
        run = instance.create_run_for_job(
            job_def=job,
            tags={**request.tags, "dagster/partition": request.partition_key},
            status=DagsterRunStatus.QUEUED,
            remote_job_origin=origin,
        )
        queued[run.run_id] = request.partition_key
    return queued


def _report(instance: Any, run_id: str, event_type: DagsterEventType) -> None:
    instance.report_dagster_event(
        DagsterEvent(event_type_value=event_type.value, job_name="make_video"), run_id=run_id
    )


def test_a_second_owner_and_a_high_priority_project_do_not_wait_for_a_burst(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any
) -> None:
    url = stack["DATABASE_URL"]
    assert not instance.get_runs(RunsFilter(statuses=[DagsterRunStatus.QUEUED]))
    burst = set(_insert(engine, "owner-a", 20))
    queued = _queue(defs, instance, url, burst)
    second = set(_insert(engine, "owner-b", 2))
    queued |= _queue(defs, instance, url, second)
    assert set(queued.values()) == burst | second

    coordinator = QueuedRunCoordinatorDaemon(interval_seconds=1)
    concurrency = instance.get_concurrency_config()
    started: list[str] = []
    running: list[str] = []
    urgent: set[str] = set()
    started_after_urgent_insert: list[str] = []
    while len(started) < len(queued):
        dequeued = coordinator._get_runs_to_dequeue(instance, concurrency, None)
        # An empty pass is right only while the burst's owner is at its limit.
        assert dequeued or len(running) == 2, "the coordinator starved a queued run"
        for run in dequeued:
            _report(instance, run.run_id, DagsterEventType.RUN_START)
            started.append(queued[run.run_id])
            running.append(run.run_id)
            if urgent:
                started_after_urgent_insert.append(queued[run.run_id])
        # The oldest running project finishes; after the first pass a third owner adds a
        # project of high priority, behind everything still queued.
        _report(instance, running.pop(0), DagsterEventType.RUN_SUCCESS)
        if not urgent:
            urgent = set(_insert(engine, "owner-c", 1, priority="high"))
            queued |= _queue(defs, instance, url, urgent)
    for run_id in running:
        _report(instance, run_id, DagsterEventType.RUN_SUCCESS)
    tick_intake(defs, instance, url)  # confirms the last tick's partitions

    last_of_burst = max(started.index(pid) for pid in burst)
    assert all(started.index(pid) < last_of_burst for pid in second)
    # Owner B's first run starts as soon as a slot frees up: the third slot is never A's.
    assert started.index(min(second, key=started.index)) <= 3
    # The urgent project starts next, before the older normal ones still queued (B's
    # second among them).
    assert started_after_urgent_insert[0] in urgent
    assert any(pid in second for pid in started_after_urgent_insert[1:])


def test_a_second_run_of_a_project_waits_until_its_first_run_ends(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any
) -> None:
    """A run launched by hand (the UI, a backfill) beside the sensor's must not race it: both
    would write the same project's rows and objects."""
    url = stack["DATABASE_URL"]
    ours = set(_insert(engine, "owner-twice", 1) + _insert(engine, "owner-other", 1))
    queued = _queue(defs, instance, url, ours)
    first_project = next(pid for pid in queued.values() if pid in ours)
    coordinator = QueuedRunCoordinatorDaemon(interval_seconds=1)
    concurrency = instance.get_concurrency_config()
    first = next(run_id for run_id, pid in queued.items() if pid == first_project)
    other = next(run_id for run_id, pid in queued.items() if pid != first_project)
    _report(instance, first, DagsterEventType.RUN_START)
    _report(instance, other, DagsterEventType.RUN_START)
    again = instance.create_run_for_job(
        job_def=defs.resolve_job_def("make_video"),
        tags={"dagster/partition": first_project, "owner": "owner-twice"},
        status=DagsterRunStatus.QUEUED,
        remote_job_origin=instance.get_run_by_id(first).remote_job_origin,
    )
    assert not coordinator._get_runs_to_dequeue(instance, concurrency, None)
    _report(instance, first, DagsterEventType.RUN_SUCCESS)
    assert [r.run_id for r in coordinator._get_runs_to_dequeue(instance, concurrency, None)] == [
        again.run_id
    ]
    for run_id in (other, again.run_id):
        _report(instance, run_id, DagsterEventType.RUN_SUCCESS)
    tick_intake(defs, instance, url)


def test_runs_of_a_project_canceled_elsewhere_are_stopped_but_not_a_later_one(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any
) -> None:
    """`project cancel` run against another Dagster instance (or killed between its two
    halves) marks the project canceled without stopping its run: the sensor stops it, and
    leaves alone a run launched after the cancel (a rerun from the UI)."""
    url = stack["DATABASE_URL"]
    ours = set(_insert(engine, "owner-canceled", 1))
    (old_run, project_id), *_ = _queue(defs, instance, url, ours).items()
    request_cancel(engine, project_id, "svc-elsewhere")
    assert mark_canceled(engine, pending_request(engine, project_id))
    later = instance.create_run_for_job(
        job_def=defs.resolve_job_def("make_video"),
        tags={"dagster/partition": project_id},
        status=DagsterRunStatus.QUEUED,
        remote_job_origin=instance.get_run_by_id(old_run).remote_job_origin,
    )
    context = build_sensor_context(instance=instance, resources={"db": DatabaseResource(url=url)})
    defs.resolve_sensor_def("project_cancel_requests")(context)
    assert instance.get_run_by_id(old_run).status == DagsterRunStatus.CANCELED
    assert instance.get_run_by_id(later.run_id).status == DagsterRunStatus.QUEUED
    instance.run_coordinator.cancel_run(later.run_id)
    tick_intake(defs, instance, url)


def pending_request(engine: sa.Engine, project_id: str) -> Any:
    return next(r for r in pending_cancels(engine) if r.project_id == project_id)
