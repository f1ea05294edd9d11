"""A step blocked on a concurrency pool sleeps while it waits and asks again every second
(video_pipeline/pool_wait.py), through the instance of dagster.yaml on the real Postgres."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from dagster import DagsterEventType, DagsterInstance, DagsterRun, job, op
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext
from dagster._serdes import ConfigurableClassData

from video_pipeline.pool_wait import CLAIM_CHECK_SECONDS

HOLD_SECONDS = 4.0


def new_pool(instance: DagsterInstance) -> str:
    pool = f"wait-test-{uuid.uuid4().hex[:8]}"
    instance.event_log_storage.set_concurrency_slots(pool, 1)
    return pool


def a_run(instance: DagsterInstance) -> DagsterRun:
    return instance.add_run(DagsterRun(job_name="pool_wait_test", run_id=str(uuid.uuid4())))


def test_a_blocked_claim_waits_a_second_between_checks_and_gets_the_freed_slot(
    instance: DagsterInstance,
) -> None:
    pool = new_pool(instance)
    with (
        InstanceConcurrencyContext(instance, a_run(instance)) as holder,
        InstanceConcurrencyContext(instance, a_run(instance)) as waiter,
    ):
        assert holder.claim(pool, "hold")
        for _ in range(4):
            assert not waiter.claim(pool, "wait")
            interval = waiter.interval_to_next_pending_claim_check()
            assert 0 < interval <= CLAIM_CHECK_SECONDS, "asleep until the next check"
            assert not waiter.claim(pool, "wait"), "no new check before the interval is over"
            time.sleep(interval)
        holder.free_step("hold")
        time.sleep(waiter.interval_to_next_pending_claim_check())
        assert waiter.claim(pool, "wait"), "the freed slot, one interval later"
        assert instance.event_log_storage.get_concurrency_info(pool).claimed_slots[0].run_id == (
            waiter._run_id
        )
        waiter.free_step("wait")


@pytest.fixture
def uncaptured(instance: DagsterInstance) -> Iterator[DagsterInstance]:
    """The same instance without stdout capture: two runs in one process would both redirect
    its file descriptors (and could leave the capture's `tail` processes behind)."""
    no_capture = ConfigurableClassData(
        "dagster._core.storage.noop_compute_log_manager", "NoOpComputeLogManager", "{}\n"
    )
    ref = instance.get_ref()._replace(compute_logs_data=no_capture)
    with DagsterInstance.from_ref(ref) as separate:
        yield separate


def test_a_run_waiting_for_a_pool_slot_does_not_keep_a_core_busy(
    uncaptured: DagsterInstance,
) -> None:
    instance = uncaptured
    pool = new_pool(instance)

    @op(pool=pool)
    def hold_the_slot() -> None:
        time.sleep(HOLD_SECONDS)

    @job
    def pool_wait_test() -> None:
        hold_the_slot()

    first: dict[str, Any] = {}
    holder = threading.Thread(
        target=lambda: first.update(result=pool_wait_test.execute_in_process(instance=instance))
    )
    holder.start()
    deadline = time.monotonic() + 60
    while not instance.event_log_storage.get_concurrency_info(pool).claimed_slots:
        assert time.monotonic() < deadline, "the first run claimed the pool's slot"
        time.sleep(0.05)

    cpu_before = time.thread_time()
    second = pool_wait_test.execute_in_process(instance=instance)
    cpu = time.thread_time() - cpu_before
    holder.join()

    assert first["result"].success and second.success
    waits = [
        event
        for event in instance.all_logs(second.run_id, of_type=DagsterEventType.ENGINE_EVENT)
        if f"blocked by limit for pool {pool}" in (event.message or "")
    ]
    assert waits, "the second run's step waited for the slot"
    started = [
        event.timestamp
        for run in (first["result"], second)
        for event in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_START)
    ]
    assert started[1] - started[0] >= HOLD_SECONDS - 0.5, "one step at a time in the pool"
    # Waiting about HOLD_SECONDS; a busy loop would spend about that much CPU.
    assert cpu < HOLD_SECONDS / 3, f"{cpu:.2f} s of CPU in the waiting run"
