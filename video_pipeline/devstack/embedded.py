"""Start, stop and describe the embedded services under one data folder.

State lives in `<data_dir>/services.json`, so every process (CLI, Dagster, tests) can find
the running servers without extra configuration.
"""

from __future__ import annotations

import json
import secrets
import shutil
from pathlib import Path

from pydantic import BaseModel

from video_pipeline.devstack.postgres import (
    APP_DATABASE,
    DAGSTER_DATABASE,
    PostgresEndpoint,
    postgres_running,
    start_postgres,
    stop_postgres,
)
from video_pipeline.devstack.s3 import S3Endpoint, process_alive, start_s3, stop_process

STATE_FILE = "services.json"
AWS_CONFIG = "aws-config"
DEFAULT_BUCKET = "video-pipeline"


class ServicesState(BaseModel):
    pg_socket_dir: str
    pg_port: int
    s3_url: str
    s3_pid: int
    s3_access_key: str
    s3_secret_key: str
    bucket: str = DEFAULT_BUCKET
    region: str = "us-east-1"

    @property
    def s3_port(self) -> int:
        return int(self.s3_url.rsplit(":", 1)[1])

    @property
    def postgres(self) -> PostgresEndpoint:
        return PostgresEndpoint(socket_dir=Path(self.pg_socket_dir), port=self.pg_port)

    def environment(self, data_dir: Path) -> dict[str, str]:
        """The variables a shell (or `dagster dev`) needs to use these services."""
        return {
            "VIDEO_PIPELINE_DATA_DIR": str(data_dir),
            "DATABASE_URL": self.postgres.url(APP_DATABASE),
            "DAGSTER_PG_URL": self.postgres.url(DAGSTER_DATABASE),
            "DAGSTER_HOME": str(data_dir / "dagster_home"),
            "AWS_ACCESS_KEY_ID": self.s3_access_key,
            "AWS_SECRET_ACCESS_KEY": self.s3_secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.s3_url,
            "VIDEO_PIPELINE_BUCKET": self.bucket,
            "AWS_CONFIG_FILE": str(data_dir / AWS_CONFIG),
        }


def read_state(data_dir: Path) -> ServicesState | None:
    path = data_dir / STATE_FILE
    if not path.exists():
        return None
    return ServicesState.model_validate_json(path.read_text())


def services_up(data_dir: Path, dagster_yaml: Path | None = None) -> ServicesState:
    """Start whatever is not running yet; idempotent."""
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    previous = read_state(data_dir)
    endpoint = start_postgres(data_dir / "pg")
    if previous is not None and process_alive(previous.s3_pid):
        s3_url, s3_pid = previous.s3_url, previous.s3_pid
        access, secret = previous.s3_access_key, previous.s3_secret_key
    else:
        access = previous.s3_access_key if previous else "vp" + secrets.token_hex(8)
        secret = previous.s3_secret_key if previous else secrets.token_hex(20)
        s3 = _restart_s3(data_dir, access, secret, previous)
        s3_url, s3_pid = s3.url, s3.pid
    state = ServicesState(
        pg_socket_dir=str(endpoint.socket_dir),
        pg_port=endpoint.port,
        s3_url=s3_url,
        s3_pid=s3_pid,
        s3_access_key=access,
        s3_secret_key=secret,
    )
    (data_dir / STATE_FILE).write_text(state.model_dump_json(indent=2))
    write_aws_config(data_dir / AWS_CONFIG, state.region)
    _prepare_dagster_home(data_dir / "dagster_home", dagster_yaml)
    return state


def _restart_s3(
    data_dir: Path, access: str, secret: str, previous: ServicesState | None
) -> S3Endpoint:
    """Start S3, on its previous port when that is still free, so clients that still hold
    its URL (a running pipeline, a shell's environment) reach it again."""
    port = previous.s3_port if previous is not None else None
    return start_s3(data_dir / "s3", access, secret, data_dir / "rclone.log", port=port)


def write_aws_config(path: Path, region: str) -> None:
    """An AWS config file under which any boto3 client or the AWS CLI talks to the embedded
    S3 as it expects: SigV4 signatures (also for presigned URLs, which default to SigV2 in
    some clients) and path-style addressing (the server has no per-bucket host names)."""
    path.write_text(
        f"[default]\nregion = {region}\n"
        "s3 =\n    signature_version = s3v4\n    addressing_style = path\n"
    )


def _prepare_dagster_home(home: Path, dagster_yaml: Path | None) -> None:
    home.mkdir(parents=True, exist_ok=True)
    if dagster_yaml is not None and dagster_yaml.exists():
        shutil.copyfile(dagster_yaml, home / "dagster.yaml")


def services_down(data_dir: Path) -> list[str]:
    """Stop what runs; returns the names of what was stopped."""
    data_dir = data_dir.resolve()
    stopped = []
    state = read_state(data_dir)
    if state is not None and stop_process(state.s3_pid):
        stopped.append("s3")
    if stop_postgres(data_dir / "pg"):
        stopped.append("postgres")
    return stopped


def services_status(data_dir: Path) -> dict[str, bool]:
    data_dir = data_dir.resolve()
    state = read_state(data_dir)
    return {
        "postgres": postgres_running(data_dir / "pg"),
        "s3": bool(state is not None and process_alive(state.s3_pid)),
    }


def shell_exports(env: dict[str, str]) -> str:
    from shlex import quote

    return "\n".join(f"export {key}={quote(value)}" for key, value in env.items())


def dump_env_json(env: dict[str, str]) -> str:
    return json.dumps(env, indent=2)
