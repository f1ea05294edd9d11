"""The shape of the code location: assets, their lineage, checks, sensors and schedules."""

from __future__ import annotations

from typing import Any

from dagster import AssetKey


def test_asset_graph_lineage_and_checks(defs: Any) -> None:
    graph = defs.resolve_asset_graph()
    deps = {
        key.path[-1]: sorted(parent.path[-1] for parent in graph.get(key).parent_keys)
        for key in graph.get_all_asset_keys()
    }
    assert deps == {
        "sources": [],
        "research": ["sources"],
        "dna_profile": ["sources"],
        "safety_check": ["research", "sources"],
        "script": ["dna_profile", "research", "safety_check"],
        "embeddings": ["research", "script", "sources"],
        "render": ["script"],
    }
    checks = {(c.asset_key.path[-1], c.name) for c in graph.asset_check_keys}
    assert checks == {
        ("research", "citations_verified"),
        ("safety_check", "safety_allows"),
        ("script", "grounded"),
        ("script", "script_safe"),
        ("script", "paced"),
        ("render", "playable"),
    }
    for name in ("research", "dna_profile", "safety_check", "script", "embeddings", "render"):
        node = graph.get(AssetKey(name))
        assert node.partitions_def is not None and node.partitions_def.name == "projects"
        assert node.code_version and node.owners and node.description
        assert node.group_name in {"content", "render"}


def test_sensors_start_running_and_schedules_exist(defs: Any) -> None:
    sensors = {s.name: s for s in defs.sensors}
    assert set(sensors) == {
        "project_intake",
        "resume_approved",
        "project_run_failed",
        "project_run_succeeded",
    }
    assert all(s.default_status.value == "RUNNING" for s in sensors.values())
    assert [s.name for s in defs.schedules] == [
        "retry_failed_projects",
        "archive_ended_projects_nightly",
    ]


def test_provider_steps_retry_with_backoff_and_jitter(defs: Any) -> None:
    job = defs.resolve_job_def("make_video")
    for name in ("research", "dna_profile", "safety_check", "script", "embeddings", "render"):
        policy = job.graph.node_named(name).definition.retry_policy
        assert policy.max_retries >= 2
        assert policy.backoff.value == "EXPONENTIAL" and policy.jitter is not None
