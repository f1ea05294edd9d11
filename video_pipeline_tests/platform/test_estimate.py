"""Cost before spending: an OpenAI project estimated without any request to the server,
then run against the OpenAI-compatible fake server; estimate and actual side by side."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from video_pipeline.cli import app
from video_pipeline.samples import demo_project
from video_pipeline.settings import load_settings
from video_pipeline.storage.estimates import estimate_row
from video_pipeline_tests.fake_openai import FakeOpenAI, Fault
from video_pipeline_tests.helpers import execute_request, tick_intake
from video_pipeline_tests.pipeline.test_openai_pipeline import request_count
from video_pipeline_tests.platform.test_metrics import assert_provider_metrics_match, samples


@pytest.fixture(scope="module")
def openai_env(fake_server: FakeOpenAI) -> dict[str, str]:
    return {
        "VIDEO_PIPELINE_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": fake_server.base_url,
        "VIDEO_PIPELINE_OPENAI_BACKOFF_SECONDS": "0.2",
    }


@pytest.fixture(scope="module")
def openai_defs(stack: dict[str, str], openai_env: dict[str, str]) -> Iterator[Any]:
    from video_pipeline.definitions import build_definitions

    with pytest.MonkeyPatch.context() as patch:
        for key, value in openai_env.items():
            patch.setenv(key, value)
        yield build_definitions(load_settings(secrets_as_env_vars=True))


def create_with_estimate(env: dict[str, str], *extra: str) -> dict[str, Any]:
    demo = demo_project()
    # A brief and a frame of its own, so no reply of another test's run (research, script,
    # images of another size) can come from the cache.
    brief = f"Why bees dance (request {uuid.uuid4().hex[:8]})."
    arguments = ["project", "create", "--title", demo.title, "--brief", brief, "--aspect", "16:9"]
    for source in demo.sources:
        flag = {"material": "--source", "reference": "--reference"}[source.role]
        arguments += [flag, source.uri if source.kind != "text" else f"@{source.content}"]
    created = CliRunner().invoke(
        app, [*arguments, "--owner", "platform-estimate", *extra, "--estimate", "--json"], env=env
    )
    assert created.exit_code == 0, created.output
    return dict(json.loads(created.output))


def test_estimate_costs_nothing_and_is_stored_beside_the_actual_cost(
    stack: dict[str, str],
    engine: sa.Engine,
    instance: Any,
    fake_server: FakeOpenAI,
    openai_env: dict[str, str],
    openai_defs: Any,
    server: str,
) -> None:
    before = request_count(fake_server)
    created = create_with_estimate(openai_env, "--duration", "15")
    project_id, estimate = created["id"], created["estimate"]

    assert request_count(fake_server) == before, "estimating calls no endpoint"
    steps = {line["step"]: line for line in estimate["lines"]}
    assert set(steps) == {
        "research",
        "dna_profile",
        "script",
        "moderation",
        "embeddings",
        "speech",
        "images",
    }
    assert steps["images"]["output_units"] == 3  # one image per scene, 3 scenes for 15 s
    assert steps["images"]["cost_usd"] == pytest.approx(3 * 0.063)
    total = sum(line["cost_usd"] for line in steps.values())
    assert estimate["total_usd"] == pytest.approx(total, abs=1e-6)
    shown = CliRunner().invoke(app, ["project", "estimate", project_id], env=openai_env)
    assert shown.exit_code == 0 and f"${estimate['total_usd']:.4f}" in shown.output
    assert request_count(fake_server) == before

    [request] = [
        r
        for r in tick_intake(openai_defs, instance, stack["DATABASE_URL"])
        if r.partition_key == project_id
    ]
    fake_server.script(
        Fault("status", status=503, path="/v1/chat/completions"),
        Fault("status", status=429, headers={"retry-after-ms": "10"}, path="/v1/chat/completions"),
    )
    result = execute_request(openai_defs, instance, request)
    assert result.success
    assert request_count(fake_server) > before

    stored = estimate_row(engine, project_id)
    with engine.connect() as conn:
        actual = float(
            conn.execute(
                sa.text("SELECT sum(cost_usd) FROM provider_usage WHERE project_id = :id"),
                {"id": project_id},
            ).scalar_one()
        )
        errors = conn.execute(
            sa.text(
                "SELECT error, cost_usd FROM provider_usage "
                "WHERE project_id = :id AND error IS NOT NULL ORDER BY id"
            ),
            {"id": project_id},
        ).all()
        cache_users = conn.execute(
            sa.text("SELECT count(*) FROM response_cache_users WHERE project_id = :id"),
            {"id": project_id},
        ).scalar_one()
    assert stored is not None and stored["estimated_usd"] == pytest.approx(estimate["total_usd"])
    assert stored["actual_usd"] == pytest.approx(actual, abs=1e-6) and actual > 0
    print(
        f"estimate {stored['estimated_usd']:.6f} actual {actual:.6f} "
        f"ratio {stored['actual_over_estimate']:.3f}"
    )
    assert 0.5 < stored["actual_over_estimate"] < 2.0
    assert [tuple(row) for row in errors] == [("http_503", 0), ("rate_limited", 0)]
    assert cache_users > 0, "the cached replies know which project used them"
    shown = CliRunner().invoke(app, ["project", "show", project_id], env=openai_env)
    assert f"cost: estimated ${stored['estimated_usd']:.4f}, actual ${actual:.4f}" in shown.output
    assert_provider_metrics_match(engine, samples(server))
    assert httpx.get(f"{server}/health").status_code == 200


def test_an_offline_project_is_estimated_at_zero(stack: dict[str, str]) -> None:
    created = create_with_estimate({"VIDEO_PIPELINE_PROVIDER": "offline"})
    assert created["estimate"]["total_usd"] == 0
    assert {line["model"] for line in created["estimate"]["lines"]} == {"offline"}
