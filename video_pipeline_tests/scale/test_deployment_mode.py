"""The deployment mode is chosen in one place: the executor, the step queues and pools."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from dagster import DagsterInstance
from typer.testing import CliRunner

from video_pipeline.cli import app
from video_pipeline.devstack.embedded import read_state
from video_pipeline.devstack.postgres import ensure_database
from video_pipeline.distributed import TASK_POLL_SECONDS, BrokerNotConfigured
from video_pipeline.settings import Settings, load_settings
from video_pipeline_tests.scale.cluster import BIN, REPO

STAGES = ("sources", "research", "dna_profile", "safety_check", "script", "embeddings", "render")


def _settings(stack: dict[str, str], **values: str) -> Settings:
    return load_settings({"DATABASE_URL": stack["DATABASE_URL"], **values})


def build_definitions(settings: Settings) -> Any:
    # Imported once the stack runs: importing the module builds the default definitions.
    from video_pipeline.definitions import build_definitions as build

    return build(settings)


def test_the_default_runs_steps_in_process_and_celery_mode_on_workers(
    stack: dict[str, str],
) -> None:
    embedded = build_definitions(_settings(stack)).resolve_job_def("make_video")
    assert embedded.executor_def.name == "in_process"
    celery = build_definitions(
        _settings(
            stack,
            VIDEO_PIPELINE_EXECUTOR="celery",
            VIDEO_PIPELINE_BROKER_URL="redis://127.0.0.1:6379/0",
        )
    ).resolve_job_def("make_video")
    assert celery.executor_def.name == "celery"
    from dagster_celery import core_execution_loop

    assert core_execution_loop.TICK_SECONDS == TASK_POLL_SECONDS < 1, "the next step, sooner"
    placement = {
        name: (
            celery.graph.node_named(name).definition.tags["dagster-celery/queue"],
            celery.graph.node_named(name).definition.pool,
        )
        for name in STAGES
    }
    assert placement == {
        "sources": ("content", None),
        "research": ("content", "provider"),
        "dna_profile": ("content", "provider"),
        "safety_check": ("content", "provider"),
        "script": ("content", "provider"),
        "embeddings": ("content", "provider"),
        "render": ("render", "render"),
    }


def test_celery_mode_without_a_broker_says_what_to_set(stack: dict[str, str]) -> None:
    with pytest.raises(BrokerNotConfigured, match="VIDEO_PIPELINE_BROKER_URL"):
        build_definitions(_settings(stack, VIDEO_PIPELINE_EXECUTOR="celery"))


def test_worker_refuses_an_unknown_queue_and_a_missing_broker(stack: dict[str, str]) -> None:
    runner = CliRunner()
    unknown = runner.invoke(
        app,
        ["worker", "--queue", "gpu"],
        env={"VIDEO_PIPELINE_BROKER_URL": "redis://127.0.0.1:1/0"},
    )
    assert unknown.exit_code == 2 and "unknown queue gpu" in unknown.output
    missing = runner.invoke(app, ["worker", "--queue", "render"])
    assert missing.exit_code == 2 and "VIDEO_PIPELINE_BROKER_URL" in missing.output


def test_migrate_gives_every_pool_its_row_before_any_run(stack: dict[str, str]) -> None:
    """A fresh Dagster storage: `video-pipeline migrate` creates the pools' rows, so the
    first runs of a deployment never race to create them."""
    from video_pipeline.queues import POOLS

    state = read_state(Path(stack["VIDEO_PIPELINE_DATA_DIR"]))
    assert state is not None
    ensure_database(state.postgres, "fresh_pools_dagster")
    home = Path(tempfile.mkdtemp(prefix="vp-pools-"))
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": state.postgres.url("fresh_pools_dagster"),
    }
    for _ in range(2):  # and again, as every deployment does
        migrated = subprocess.run(
            [str(BIN / "video-pipeline"), "migrate"], env=env, capture_output=True, text=True
        )
        assert migrated.returncode == 0, migrated.stderr
        assert "dagster pools ready: provider, render" in migrated.stdout
    os.environ["DAGSTER_PG_URL"], saved = env["DAGSTER_PG_URL"], os.environ["DAGSTER_PG_URL"]
    try:
        with DagsterInstance.from_config(str(home)) as instance:
            limits = {
                pool: instance.event_log_storage.get_concurrency_info(pool).slot_count
                for pool in POOLS
            }
    finally:
        os.environ["DAGSTER_PG_URL"] = saved
    assert limits == dict.fromkeys(POOLS, 2), "dagster.yaml's default pool limit"
