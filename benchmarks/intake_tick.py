"""The intake tick with a million past projects: ours (a partial index over projects that
wait for a partition) against the previous design (list every Dagster partition each tick).

    .venv/bin/python benchmarks/intake_tick.py                      # 1,000,000 past projects
    .venv/bin/python benchmarks/intake_tick.py --past 100000 --ticks 10

Ours is timed as the sensor function itself on an idle tick (no new project) and on a tick
finding 50 new ones (its cursor is not confirmed between ticks, so they stay new). The
baseline is the previous tick's own expensive call, `get_dynamic_partitions`, with one
Dagster partition per past project. Medians of `--ticks` ticks each, alternating.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from video_pipeline.devstack.embedded import services_down, services_up
from video_pipeline_tests.helpers import insert_project_sql
from video_pipeline_tests.scale.cluster import REPO, deployment, insert_past_projects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--past", type=int, default=1_000_000)
    parser.add_argument("--ticks", type=int, default=20)
    args = parser.parse_args()

    from dagster import build_sensor_context

    data_dir = Path(tempfile.mkdtemp(prefix="vp-bench-intake-"))
    state = services_up(data_dir, dagster_yaml=REPO / "dagster.yaml")
    stack = state.environment(data_dir)
    try:
        with deployment(stack, "bench_intake") as cluster, cluster.instance() as instance:
            url = cluster.env["DATABASE_URL"]
            insert_past_projects(url, args.past)
            keys = [f"past-{i:07d}" for i in range(args.past)]
            for start in range(0, len(keys), 50_000):
                instance.add_dynamic_partitions("projects", keys[start : start + 50_000])

            os.environ["DATABASE_URL"] = url
            from video_pipeline.definitions import defs
            from video_pipeline.platform_config import PlatformConfig
            from video_pipeline.resources import DatabaseResource

            sensor = defs().resolve_sensor_def("project_intake")
            # The tick's own cost: an idle tick's listening for new projects is waiting.
            resources = {
                "db": DatabaseResource(url=url),
                "platform": PlatformConfig(intake_wait_seconds=0),
            }

            def tick() -> float:
                began = time.perf_counter()
                sensor(build_sensor_context(instance=instance, resources=resources))
                return time.perf_counter() - began

            def baseline() -> float:
                began = time.perf_counter()
                instance.get_dynamic_partitions("projects")
                return time.perf_counter() - began

            idle, listing = [], []
            for _ in range(args.ticks):
                idle.append(tick())
                listing.append(baseline())
            engine = sa.create_engine(url)
            with engine.begin() as conn:
                for i in range(50):
                    insert_project_sql(conn, owner="bench", title=f"new {i}", brief="b")
            busy = [tick() for _ in range(args.ticks)]
            engine.dispose()
    finally:
        services_down(data_dir)
    result = {
        "past_projects": args.past,
        "tick_idle_ms_median": round(1000 * statistics.median(idle), 1),
        "tick_idle_ms_max": round(1000 * max(idle), 1),
        "tick_50_new_ms_median": round(1000 * statistics.median(busy), 1),
        "tick_50_new_ms_max": round(1000 * max(busy), 1),
        "baseline_list_partitions_ms_median": round(1000 * statistics.median(listing), 1),
        "baseline_over_idle_tick": round(statistics.median(listing) / statistics.median(idle), 1),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
