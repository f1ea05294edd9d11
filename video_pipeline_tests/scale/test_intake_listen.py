"""An idle intake tick listens for new projects: a project committed while the tick waits is
requested by that same tick, and writes that give intake nothing to do neither wake it nor
make it request anything. The trigger behind it notifies once per transaction, and only for
rows that need a run."""

from __future__ import annotations

import select
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg2
import pytest
import sqlalchemy as sa
from dagster import SensorResult, build_sensor_context

from video_pipeline.platform_config import PlatformConfig
from video_pipeline.resources import DatabaseResource
from video_pipeline.storage.partitions import INTAKE_CHANNEL
from video_pipeline_tests.helpers import insert_project_sql
from video_pipeline_tests.scale.cluster import Deployment, deployment

WAIT_SECONDS = 3.0


@pytest.fixture
def cluster(stack: dict[str, str]) -> Iterator[Deployment]:
    with deployment(stack, "intake_listen") as deployed:
        yield deployed


def _tick(defs: Any, cluster: Deployment, wait: float) -> SensorResult:
    resources = {
        "db": DatabaseResource(url=cluster.env["DATABASE_URL"]),
        "platform": PlatformConfig(intake_wait_seconds=wait),
    }
    with cluster.instance() as instance:
        result = defs.resolve_sensor_def("project_intake")(
            build_sensor_context(instance=instance, resources=resources)
        )
    assert isinstance(result, SensorResult)
    return result


def _during_tick(delay: float, write: Callable[[], None]) -> threading.Timer:
    timer = threading.Timer(delay, write)
    timer.start()
    return timer


def test_a_project_committed_during_an_idle_tick_is_requested_by_that_tick(
    defs: Any, cluster: Deployment
) -> None:
    engine = sa.create_engine(cluster.env["DATABASE_URL"])
    inserted: list[str] = []

    def insert() -> None:
        with engine.begin() as conn:
            inserted.append(insert_project_sql(conn, owner="late", title="t", brief="b"))

    # The tick reads the table first and finds nothing; the commit comes while it listens.
    timer = _during_tick(0.5, insert)
    result = _tick(defs, cluster, WAIT_SECONDS)
    timer.join()

    assert [r.partition_key for r in result.run_requests or []] == inserted
    with engine.connect() as conn:
        status = conn.execute(
            sa.text("SELECT status FROM projects WHERE id = :id"), {"id": inserted[0]}
        ).scalar_one()
    assert status == "queued"
    engine.dispose()


def test_writes_that_need_no_run_leave_the_idle_tick_idle(defs: Any, cluster: Deployment) -> None:
    engine = sa.create_engine(cluster.env["DATABASE_URL"])
    with engine.begin() as conn:
        ended = insert_project_sql(conn, owner="o", title="done one", brief="b")
        conn.execute(
            sa.text(
                "UPDATE projects SET status = 'done', partition_added_at = now() WHERE id = :id"
            ),
            {"id": ended},
        )

    def unrelated_writes() -> None:
        with engine.connect() as conn:  # an insert that never commits
            insert_project_sql(conn, owner="o", title="rolled back", brief="b")
            conn.rollback()
        with engine.begin() as conn:  # an ended project changes again
            conn.execute(
                sa.text("UPDATE projects SET status = 'failed' WHERE id = :id"), {"id": ended}
            )

    timer = _during_tick(0.3, unrelated_writes)
    result = _tick(defs, cluster, 1.5)
    timer.join()

    assert not result.run_requests
    assert result.skip_reason is not None
    assert result.skip_reason.skip_message == "no new projects"
    engine.dispose()


def test_the_trigger_notifies_once_per_transaction_for_rows_that_need_a_run(
    cluster: Deployment,
) -> None:
    url = cluster.env["DATABASE_URL"]
    listener = psycopg2.connect(url.replace("postgresql+psycopg2://", "postgresql://"))
    listener.autocommit = True
    with listener.cursor() as cursor:
        cursor.execute(f"LISTEN {INTAKE_CHANNEL}")
    engine = sa.create_engine(url)

    def notifications() -> int:
        select.select([listener], [], [], 0.5)
        listener.poll()
        count = len(listener.notifies)
        listener.notifies.clear()
        return count

    with engine.begin() as conn:  # three inserts, one commit
        ids = [insert_project_sql(conn, owner="o", title=f"p{i}", brief="b") for i in range(3)]
    assert notifications() == 1
    with engine.begin() as conn:  # the intake takes them: queued, then given a partition
        conn.execute(
            sa.text("UPDATE projects SET status = 'queued' WHERE id = ANY(CAST(:ids AS uuid[]))"),
            {"ids": ids},
        )
    assert notifications() == 1
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE projects SET partition_added_at = now(), status = 'running' "
                "WHERE id = ANY(CAST(:ids AS uuid[]))"
            ),
            {"ids": ids},
        )
        conn.execute(sa.text("UPDATE projects SET status = 'done' WHERE id = :id"), {"id": ids[0]})
    assert notifications() == 0
    with engine.begin() as conn:  # a rerun hands one back to intake
        conn.execute(
            sa.text("UPDATE projects SET status = 'new', partition_added_at = NULL WHERE id = :id"),
            {"id": ids[0]},
        )
    assert notifications() == 1
    listener.close()
    engine.dispose()
