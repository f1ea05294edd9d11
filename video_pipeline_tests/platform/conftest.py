"""Projects run through the real intake sensor and `make_video` job, shared by the platform
tests that only read what a finished project left behind."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from video_pipeline_tests.pipeline.test_end_to_end import demo_sources, launch


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
