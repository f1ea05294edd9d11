"""Dagster's storage as dagster.yaml configures it: one pool per process serves every
storage of every instance, survives a Postgres restart, and a forked child opens its own."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance

from video_pipeline.instance_storage import POOL_DEFAULTS
from video_pipeline_tests.helpers import restart_postgres


@pytest.fixture
def instance(stack: dict[str, str]) -> Iterator[DagsterInstance]:
    with DagsterInstance.from_config(stack["DAGSTER_HOME"]) as instance:
        yield instance


@pytest.fixture
def connections_opened() -> Iterator[list[int]]:
    """Every new DBAPI connection this process opens, by any engine, while the test runs."""
    opened: list[int] = []

    def count(dbapi_connection: object, record: object) -> None:
        opened.append(os.getpid())

    sa.event.listen(sa.engine.Engine, "connect", count)
    yield opened
    sa.event.remove(sa.engine.Engine, "connect", count)


def use_every_storage(instance: DagsterInstance) -> None:
    instance.get_run_records(limit=1)
    instance.all_logs("no-such-run")
    instance.all_instigator_state()


def test_dagster_yaml_pools_the_storage_connections(
    instance: DagsterInstance, connections_opened: list[int]
) -> None:
    assert instance.get_ref().storage_data.class_name == "PooledPostgresStorage"
    use_every_storage(instance)  # the pool may have been emptied by an earlier test
    connections_opened.clear()
    for _ in range(30):
        use_every_storage(instance)
    assert connections_opened == [], "90 calls, no new connection"


def test_instances_built_one_after_another_share_the_pool(
    stack: dict[str, str], instance: DagsterInstance, connections_opened: list[int]
) -> None:
    """As a Celery worker builds an instance per step and never disposes of it."""
    use_every_storage(instance)
    connections_opened.clear()
    for _ in range(5):
        another = DagsterInstance.from_ref(instance.get_ref())
        use_every_storage(another)
    assert connections_opened == [], "no table check, every call from the shared pool"


def test_pooled_connections_outlive_a_postgres_restart(
    stack: dict[str, str], instance: DagsterInstance, connections_opened: list[int]
) -> None:
    use_every_storage(instance)
    restart_postgres(stack)
    connections_opened.clear()
    use_every_storage(instance)
    assert connections_opened, "the calls reconnected"
    assert set(connections_opened) == {os.getpid()}
    assert len(connections_opened) <= POOL_DEFAULTS["pool_size"], "each pooled one at most once"


def test_a_forked_child_opens_its_own_connections(
    instance: DagsterInstance, connections_opened: list[int]
) -> None:
    use_every_storage(instance)
    connections_opened.clear()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            use_every_storage(instance)
            os.write(write_end, str(connections_opened.count(os.getpid())).encode())
        finally:
            os._exit(0)
    os.close(write_end)
    opened_in_child = os.read(read_end, 16).decode()
    os.waitpid(child, 0)
    use_every_storage(instance)
    assert opened_in_child == "1", "the child did not reuse the parent's sockets"
    assert connections_opened == [], "the parent kept its own"
