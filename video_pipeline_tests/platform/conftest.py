"""Projects run through the real intake sensor and `make_video` job, shared by the platform
tests that only read what a finished project left behind."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from video_pipeline.resources import DatabaseResource, ObjectStoreResource
from video_pipeline.serve import make_metrics_server
from video_pipeline.settings import load_settings
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline_tests.pipeline.test_end_to_end import demo_sources, launch
from video_pipeline_tests.pipeline.test_openai_pipeline import fake_server  # noqa: F401


def run_project(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any, owner: str, **settings: Any
) -> str:
    project_id, result = launch(
        engine,
        defs,
        instance,
        stack["DATABASE_URL"],
        owner=owner,
        title="How honeybees run a hive",
        brief="A short explainer on how a honeybee colony works, for curious adults.",
        settings={"duration_seconds": 15, **settings},
        sources=demo_sources(),
    )
    assert result.success
    return project_id


@pytest.fixture(scope="session")
def finished_projects(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any
) -> list[str]:
    """Two offline projects that ran to `done`."""
    return [run_project(stack, engine, defs, instance, "platform-metrics") for _ in range(2)]


@pytest.fixture
def server(stack: dict[str, str]) -> Iterator[str]:
    """`video-pipeline serve` on a free port, in a thread of the test process."""
    metrics = make_metrics_server(load_settings(), "127.0.0.1", 0)
    thread = threading.Thread(target=metrics.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{metrics.server_address[1]}"
    metrics.shutdown()
    metrics.server_close()


def sensor_resources(stack: dict[str, str], store: ObjectStore, **extra: Any) -> dict[str, Any]:
    """What the daemon gives the platform sensors, pointed at the test services."""
    return {
        "db": DatabaseResource(url=stack["DATABASE_URL"]),
        "object_store": ObjectStoreResource(
            bucket=store.bucket,
            endpoint_url=store.endpoint_url,
            access_key_id=store.access_key_id,
            secret_access_key=store.secret_access_key,
        ),
        **extra,
    }
