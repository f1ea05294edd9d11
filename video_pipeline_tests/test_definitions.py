"""The shape of the code location, checked without any service: the asset graph against a
snapshot, lazy loading with an empty environment, settings refused at load."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from dagster import AssetKey, Definitions

from video_pipeline.config import SettingsError
from video_pipeline.definitions import build_definitions, defs
from video_pipeline.resources import RenderResource
from video_pipeline.settings import load_settings

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.json"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def bare_defs() -> Definitions:
    """The definitions as a machine with no database, no S3 and no environment loads them."""
    return build_definitions(load_settings({}))


def graph_snapshot(definitions: Definitions) -> dict[str, Any]:
    graph = definitions.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitions": node.partitions_def.name if node.partitions_def else None,  # type: ignore[attr-defined]
            "group": node.group_name,
            "code_version": node.code_version,
        }
    job = definitions.resolve_job_def("make_video")
    return {
        "assets": assets,
        "checks": sorted(
            f"{check.asset_key.to_user_string()}:{check.name}" for check in graph.asset_check_keys
        ),
        "jobs": sorted(j.name for j in definitions.resolve_all_job_defs()),
        "make_video_retries": {
            node.name: node.definition.retry_policy.max_retries
            for node in job.graph.nodes
            if node.definition.retry_policy is not None
        },
        "sensors": sorted(s.name for s in definitions.sensors or []),
        "schedules": sorted(s.name for s in definitions.schedules or []),
        "resources": sorted(definitions.resources or {}),
    }


def test_the_asset_graph_matches_its_snapshot(bare_defs: Definitions) -> None:
    """An accidental change to the graph shows here; a deliberate one updates the file with
    `python -m video_pipeline_tests.test_definitions`."""
    assert graph_snapshot(bare_defs) == json.loads(SNAPSHOT.read_text())


def test_asset_graph_lineage_and_checks(bare_defs: Definitions) -> None:
    graph = bare_defs.resolve_asset_graph()
    deps = {
        key.path[-1]: sorted(parent.path[-1] for parent in graph.get(key).parent_keys)
        for key in graph.get_all_asset_keys()
    }
    assert deps == {
        "sources": [],
        "safety_check": ["sources"],
        "research": ["safety_check", "sources"],
        "dna_profile": ["safety_check", "sources"],
        "script": ["dna_profile", "research", "safety_check"],
        "embeddings": ["research", "script", "sources"],
        "render": ["embeddings", "script"],
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
        assert node.partitions_def is not None and node.partitions_def.name == "projects"  # type: ignore[attr-defined]
        assert node.code_version and node.owners and node.description
        assert node.group_name in {"content", "render"}


def test_sensors_start_running_and_schedules_exist(bare_defs: Definitions) -> None:
    sensors = {s.name: s for s in bare_defs.sensors or []}
    assert set(sensors) == {
        "project_intake",
        "resume_approved",
        "project_run_failed",
        "project_run_succeeded",
        "project_cancel_requests",
        "project_run_canceled",
        "deliver_webhooks",
        "process_deletions",
    }
    assert all(s.default_status.value == "RUNNING" for s in sensors.values())
    assert [s.name for s in bare_defs.schedules or []] == [
        "retry_failed_projects",
        "archive_ended_projects_nightly",
    ]


def test_provider_steps_retry_with_backoff_and_jitter(bare_defs: Definitions) -> None:
    job = bare_defs.resolve_job_def("make_video")
    for name in ("research", "dna_profile", "safety_check", "script", "embeddings", "render"):
        policy = job.graph.node_named(name).definition.retry_policy
        assert policy.max_retries >= 2
        assert policy.backoff.value == "EXPONENTIAL" and policy.jitter is not None


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"PATH": os.environ.get("PATH", ""), **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_import_and_load_need_no_environment(tmp_path: Path) -> None:
    # An empty data folder: no embedded services to fall back on.
    env = {"VIDEO_PIPELINE_DATA_DIR": str(tmp_path)}
    result = _python("import video_pipeline.definitions", {})
    assert result.returncode == 0, result.stderr
    result = _python(
        "from video_pipeline.definitions import defs; d = defs(); "
        "print(sorted(k.to_user_string() for k in d.resolve_asset_graph().get_all_asset_keys()))",
        env,
    )
    assert result.returncode == 0, result.stderr
    assert "render" in result.stdout and "sources" in result.stdout


def test_an_invalid_setting_fails_at_load_naming_the_variable_and_its_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIDEO_PIPELINE_PROVIDER", "gpt")
    monkeypatch.setenv("OPENAI_TIMEOUT_SECONDS", "soon")
    monkeypatch.setenv("VIDEO_PIPELINE_OPENAI_MODELS", '{"scripts": "gpt-4.1"}')
    with pytest.raises(SettingsError) as error:
        defs()
    message = str(error.value)
    assert "VIDEO_PIPELINE_PROVIDER='gpt'" in message and "'offline' or 'openai'" in message
    assert "OPENAI_TIMEOUT_SECONDS='soon'" in message
    assert "VIDEO_PIPELINE_OPENAI_MODELS" in message and "scripts" in message


def test_secrets_reach_dagster_as_env_vars_not_values(monkeypatch: pytest.MonkeyPatch) -> None:
    from dagster import EnvVar

    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-value")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-value")
    settings = load_settings(secrets_as_env_vars=True)
    assert isinstance(settings.providers.openai.api_key, EnvVar)
    assert isinstance(settings.object_store.secret_access_key, EnvVar)
    assert "sk-secret-value" not in repr(settings.resources())


def test_the_readme_configuration_table_is_the_settings_tree() -> None:
    from video_pipeline.settings import declared, settings_table

    readme = (REPO / "README.md").read_text()
    start = readme.index("<!-- settings-table")
    block = readme[readme.index("\n", start) + 1 : readme.index("<!-- end settings-table -->")]
    assert block.strip() == settings_table(), "README is stale: paste `video-pipeline settings`"
    names = [item.env for item in declared()]
    assert len(names) == len(set(names)), "a variable is declared twice"


if __name__ == "__main__":
    SNAPSHOT.parent.mkdir(exist_ok=True)
    snapshot = graph_snapshot(build_definitions(load_settings({})))
    SNAPSHOT.write_text(json.dumps(snapshot, indent=2, sort_keys=True) + "\n")
    print(f"wrote {SNAPSHOT}")


def test_two_runs_of_one_project_render_in_folders_of_their_own(tmp_path: Path) -> None:
    render = RenderResource(work_dir=str(tmp_path))
    first = render.scratch_dir("p1", "run-a", "render")
    second = render.scratch_dir("p1", "run-b", "render")
    assert first.is_dir() and second.is_dir() and first != second
    assert first.is_relative_to(tmp_path / "video_pipeline" / "p1")


def test_two_attempts_of_one_step_work_apart_and_each_removes_only_its_own(
    tmp_path: Path,
) -> None:
    """A Celery task delivered again while its first attempt's encoder still writes."""
    render = RenderResource(work_dir=str(tmp_path))
    first = render.scratch_dir("p1", "run-a", "render")
    again = render.scratch_dir("p1", "run-a", "render")
    other_run = render.scratch_dir("p1", "run-b", "render")
    assert len({first, again, other_run}) == 3
    (first / "video.mp4").write_bytes(b"first")
    render.discard_scratch("p1", "run-a", again)
    assert not again.exists() and (first / "video.mp4").read_bytes() == b"first"
    # A run that died: everything it left goes, another run's folder stays.
    render.discard_scratch("p1", "run-a")
    assert not first.exists() and other_run.is_dir()
