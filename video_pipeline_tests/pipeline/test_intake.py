"""The intake sensor is exactly-once under concurrent writers whose commits arrive late and
out of order."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from typing import Any

import sqlalchemy as sa

from video_pipeline_tests.helpers import insert_project_sql, tick_intake


def test_concurrent_out_of_order_commits_are_picked_up_exactly_once(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any
) -> None:
    writers = 8
    created: list[str] = []
    lock = threading.Lock()
    rng = random.Random(7)
    # The first writers open their transactions first (earlier created_at) but hold them
    # longest, so their rows become visible after later ones: any cursor on time or id
    # order would skip them.
    delays = sorted((rng.uniform(0.2, 2.0) for _ in range(writers)), reverse=True)
    start = threading.Barrier(writers)

    def writer(index: int) -> None:
        with engine.connect() as conn:
            start.wait()
            time.sleep(index * 0.02)
            with conn.begin():
                project_id = insert_project_sql(
                    conn,
                    owner="race",
                    title=f"race {index}",
                    brief="race test",
                    sources=[{"role": "material", "kind": "text", "content": "text"}],
                )
                time.sleep(delays[index])
        with lock:
            created.append(project_id)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()

    requested: Counter[str] = Counter()

    def tick() -> None:
        for request in tick_intake(defs, instance, stack["DATABASE_URL"]):
            assert request.run_key == request.partition_key
            requested[request.partition_key] += 1

    while any(t.is_alive() for t in threads):
        tick()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    # Ticks after everything committed pick up the stragglers, then find nothing new.
    tick()
    tick()

    race_ids = set(created)
    assert len(race_ids) == writers
    assert {pid: requested[pid] for pid in race_ids} == {pid: 1 for pid in race_ids}
    assert race_ids <= set(instance.get_dynamic_partitions("projects"))
    with engine.connect() as conn:
        statuses = (
            conn.execute(sa.text("SELECT status FROM projects WHERE owner_id = 'race'"))
            .scalars()
            .all()
        )
    assert statuses == ["queued"] * writers
