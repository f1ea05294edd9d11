"""The `video-pipeline` command and `dagster asset materialize`, run as a user would."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from video_pipeline_tests.storage.chunks import store_texts

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parent.parent


def cli(
    *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(BIN / "video-pipeline"), *args],
        capture_output=True,
        text=True,
        env=os.environ | (env or {}),
        cwd=REPO,
        timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["services"],
        ["services", "up"],
        ["services", "down"],
        ["services", "status"],
        ["services", "env"],
        ["project"],
        ["project", "create"],
        ["project", "list"],
        ["project", "show"],
        ["search"],
        ["reembed"],
        ["demo"],
        ["dev"],
        ["migrate"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = subprocess.run(
        [str(BIN / "video-pipeline"), *command, "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout


def test_project_create_list_show(stack: dict[str, str], engine: sa.Engine, tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Bees\n\nHoneybees dance to tell each other where flowers are.\n")
    created = cli(
        "project",
        "create",
        "--title",
        "Bees",
        "--brief",
        "Explain the waggle dance.",
        "--source",
        str(notes),
        "--source",
        "@Bees visit about 100 flowers per trip.",
        "--owner",
        "cli-owner",
        "--aspect",
        "16:9",
        "--duration",
        "20",
        "--motion",
        "zoom",
        "--crossfade",
        "0.5",
        "--json",
    )
    project_id = json.loads(created.stdout)["id"]
    with engine.connect() as conn:
        uri = conn.execute(
            sa.text("SELECT uri FROM project_sources WHERE project_id = :id AND kind = 'file'"),
            {"id": project_id},
        ).scalar_one()
    uploaded = Path(uri)
    assert uploaded.is_relative_to(Path(stack["VIDEO_PIPELINE_DATA_DIR"]).resolve() / "uploads")
    assert uploaded.read_bytes() == notes.read_bytes()

    shown = json.loads(cli("project", "show", project_id, "--json").stdout)
    assert shown["id"] == project_id
    assert shown["status"] in {"new", "queued"}
    assert shown["sources"] == 2
    assert shown["settings"]["aspect"] == "16:9"
    assert shown["settings"]["duration_seconds"] == 20
    assert (shown["settings"]["camera_motion"], shown["settings"]["crossfade_seconds"]) == (
        "zoom",
        0.5,
    )

    listed = json.loads(cli("project", "list", "--owner", "cli-owner", "--json").stdout)
    assert [row["id"] for row in listed] == [project_id]
    assert json.loads(cli("project", "list", "--owner", "nobody", "--json").stdout) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--brief", "   "], "brief"),
        (["--brief", "ok", "--source", "/no/such/file.txt"], "does not exist"),
        (["--brief", "ok", "--source", __file__], "unsupported file type '.py'"),
        (["--brief", "ok", "--language", "xx"], "'xx' is not supported; use one of"),
        (["--brief", "ok", "--voice", "de"], "'de' speaks de, not the project's language en"),
        (["--brief", "ok", "--voice", "alloy"], "'alloy' is an OpenAI voice"),
        (["--brief", "ok", "--aspect", "4:3"], "aspect"),
        (["--brief", "ok", "--duration", "1"], "duration"),
        (["--brief", "ok", "--motion", "spin"], "camera_motion"),
        (["--brief", "ok", "--crossfade", "3"], "crossfade_seconds"),
    ],
)
def test_project_create_refuses_bad_input(
    stack: dict[str, str], args: list[str], message: str
) -> None:
    result = cli("project", "create", "--title", "T", *args, check=False)
    assert result.returncode == 2
    assert message in result.stderr


def test_show_unknown_project_is_a_clear_error(stack: dict[str, str]) -> None:
    result = cli("project", "show", "00000000-0000-0000-0000-000000000000", check=False)
    assert result.returncode == 2 and "no project" in result.stderr
    result = cli("project", "show", "not-a-uuid", check=False)
    assert result.returncode == 2 and "not a project id" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["owner", "set", "x", "--cost-per-day-usd", "inf"], "for '--cost-per-day-usd'"),
        (["owner", "set", "x", "--projects-per-day", "99999999999"], "for '--projects-per-day'"),
        (["owner", "set", " ", "--projects-per-day", "1"], "the owner id is empty"),
        (["migrate", "nonsense-rev"], "Can't locate revision identified by 'nonsense-rev'"),
        (["serve", "--port", "99999"], "Invalid value for '--port'"),
    ],
)
def test_bad_arguments_get_a_message_and_no_traceback(
    stack: dict[str, str], args: list[str], message: str
) -> None:
    result = cli(*args, check=False)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_serve_on_a_port_in_use_and_any_command_without_a_database_say_so(
    stack: dict[str, str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = cli("serve", "--host", "127.0.0.1", "--port", port, check=False)
    assert result.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in result.stderr
    nowhere = {"DATABASE_URL": "", "VIDEO_PIPELINE_DATA_DIR": str(REPO / "no-such-dir")}
    for args in (["migrate"], ["serve"], ["project", "list"]):
        result = cli(*args, check=False, env=nowhere)
        assert result.returncode == 2, (args, result.stderr)
        assert "DATABASE_URL is not set" in result.stderr and "Traceback" not in result.stderr


def test_services_env_prints_what_a_shell_needs(stack: dict[str, str]) -> None:
    env = json.loads(cli("services", "env", "--json").stdout)
    for key in (
        "DATABASE_URL",
        "DAGSTER_PG_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "VIDEO_PIPELINE_BUCKET",
    ):
        assert env[key] == stack[key]
    exports = cli("services", "env").stdout
    assert "export DATABASE_URL=" in exports


def test_dagster_cli_materializes_an_existing_project(
    stack: dict[str, str], engine: sa.Engine, instance: Any
) -> None:
    project_id = json.loads(
        cli(
            "project",
            "create",
            "--title",
            "CLI run",
            "--brief",
            "Why bees dance.",
            "--source",
            str(REPO / "video_pipeline" / "samples" / "demo" / "honeybees.md"),
            "--owner",
            "cli-owner",
            "--json",
        ).stdout
    )["id"]
    instance.add_dynamic_partitions("projects", [project_id])

    result = subprocess.run(
        [
            str(BIN / "dagster"),
            "asset",
            "materialize",
            "-m",
            "video_pipeline.definitions",
            "--select",
            "sources,safety_check,research",
            "--partition",
            project_id,
        ],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        cwd=REPO,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr[-3000:]
    with engine.connect() as conn:
        stages = set(
            conn.execute(
                sa.text("SELECT stage FROM stage_outputs WHERE project_id = :id"),
                {"id": project_id},
            ).scalars()
        )
    assert stages == {"sources", "safety_check", "research"}
    runs = instance.get_runs()
    assert any(run.tags.get("dagster/partition") == project_id for run in runs)


RARE_CODE_CHUNK = (
    "Spring catalogue notes. The warehouse team restocked shelves, updated price labels, "
    "trained new staff on the returns desk and moved the seasonal displays near the entrance. "
    "Customers asked twice about the XK-4471 battery pack, which arrives next month."
)


def test_hybrid_search_finds_a_rare_code_that_vector_search_misses(
    stack: dict[str, str], engine: sa.Engine
) -> None:
    distractors = [
        f"Battery {topic}: battery life depends on how you charge the battery."
        for topic in ("care", "tips", "basics", "health", "myths", "storage", "safety", "reuse")
    ]
    store_texts(engine, "cli-search", [*distractors, RARE_CODE_CHUNK])

    def found(*mode: str) -> list[str]:
        result = cli("search", "XK-4471 battery", "--owner", "cli-search", "--json", *mode)
        return [hit["content"] for hit in json.loads(result.stdout)]

    vector = found("--mode", "vector")
    assert len(vector) == 5 and RARE_CODE_CHUNK not in vector
    assert found("--mode", "text") == [RARE_CODE_CHUNK]
    hybrid = found()
    assert hybrid[0] == RARE_CODE_CHUNK and len(hybrid) == 5
    refused = cli("search", "x", "--owner", "cli-search", "--mode", "fuzzy", check=False)
    assert refused.returncode == 2 and "vector, text, hybrid" in refused.stderr


def test_reembed_moves_an_owner_to_the_deployments_model(
    stack: dict[str, str], engine: sa.Engine
) -> None:
    from video_pipeline_tests.fake_openai import FakeOpenAI

    texts = ["Bees dance to show the way.", "Hives stay warm in winter.", "Nectar turns to honey."]
    store_texts(engine, "cli-reembed", texts)
    server = FakeOpenAI().start()
    try:
        openai = {
            "VIDEO_PIPELINE_PROVIDER": "openai",
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": server.base_url,
        }
        before = cli("search", texts[1], "--owner", "cli-reembed", "--json", env=openai)
        assert json.loads(before.stdout) == []
        assert "3 chunks of this owner are embedded with offline-hashing-384" in before.stderr
        assert "video-pipeline reembed --owner cli-reembed" in before.stderr

        done = cli("reembed", "--owner", "cli-reembed", env=openai)
        assert "re-embedded 3 chunks with text-embedding-3-small (1536-d)" in done.stdout
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT model, dimension, content FROM retrievable_text "
                    "WHERE owner_id = 'cli-reembed' ORDER BY ordinal"
                )
            ).all()
        assert [tuple(r) for r in rows] == [("text-embedding-3-small", 1536, t) for t in texts]

        after = cli(
            "search", texts[1], "--owner", "cli-reembed", "--mode", "vector", "--json", env=openai
        )
        hits = json.loads(after.stdout)
        assert hits[0]["content"] == texts[1] and hits[0]["score"] > 0.999
        assert after.stderr == ""
        assert "re-embedded 0 chunks" in cli("reembed", "--owner", "cli-reembed", env=openai).stdout
    finally:
        server.stop()
    offline = cli("search", "bees", "--owner", "cli-reembed")
    assert offline.stdout == "" and "embedded with text-embedding-3-small" in offline.stderr
