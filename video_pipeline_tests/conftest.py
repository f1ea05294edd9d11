"""Shared fixtures: a real embedded Postgres with pgvector and a real S3 API, started once
per test session under a temporary folder and stopped at the end."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from video_pipeline.devstack.embedded import ServicesState, services_down, services_up
from video_pipeline.storage.db import engine_for
from video_pipeline.storage.migrate import upgrade
from video_pipeline.storage.object_store import ObjectStore

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def stack() -> Iterator[dict[str, str]]:
    """Start Postgres + S3, migrate, and point this process's environment at them; stop them
    at the end, also when a migration or the bucket fails during the start."""
    data_dir = Path(tempfile.mkdtemp(prefix="vp-test-"))
    saved: dict[str, str | None] = {}
    try:
        state: ServicesState = services_up(data_dir, dagster_yaml=REPO / "dagster.yaml")
        env = state.environment(data_dir)
        env["VIDEO_PIPELINE_ALLOW_LOOPBACK_URLS"] = "true"
        env["VIDEO_PIPELINE_WORK_DIR"] = str(data_dir / "work")
        env["VIDEO_PIPELINE_X264_PRESET"] = "ultrafast"
        saved = {key: os.environ.get(key) for key in env}
        os.environ.update(env)
        upgrade(env["DATABASE_URL"])
        ObjectStore(
            bucket=state.bucket,
            endpoint_url=state.s3_url,
            access_key_id=state.s3_access_key,
            secret_access_key=state.s3_secret_key,
        ).ensure_bucket()
        yield env
    finally:
        services_down(data_dir)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def engine(stack: dict[str, str]) -> sa.Engine:
    return engine_for(stack["DATABASE_URL"])


@pytest.fixture(scope="session")
def store(stack: dict[str, str]) -> ObjectStore:
    return ObjectStore(
        bucket=stack["VIDEO_PIPELINE_BUCKET"],
        endpoint_url=stack["AWS_ENDPOINT_URL_S3"],
        access_key_id=stack["AWS_ACCESS_KEY_ID"],
        secret_access_key=stack["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture(scope="session")
def instance(stack: dict[str, str]) -> Iterator[Any]:
    """The Dagster instance of $DAGSTER_HOME: run and event storage in Postgres."""
    from dagster import DagsterInstance

    with DagsterInstance.from_config(stack["DAGSTER_HOME"]) as dagster_instance:
        yield dagster_instance


@pytest.fixture(scope="session")
def defs(stack: dict[str, str]) -> Any:
    """The code location, loaded after the environment points at the test services."""
    from video_pipeline.definitions import defs as definitions

    return definitions()
