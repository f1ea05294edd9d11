"""Any S3 client works with the embedded S3 under `services env`: a default boto3 client's
presigned GET of a stored mp4 returns its bytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from video_pipeline.render.binaries import ffmpeg_path
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline_tests.test_cli import cli

CLIENT = """
import sys, boto3
client = boto3.client("s3")
print(client.generate_presigned_url(
    "get_object", Params={"Bucket": sys.argv[1], "Key": sys.argv[2]}, ExpiresIn=600
))
"""


def test_default_boto3_client_presigns_a_url_that_works(
    stack: dict[str, str], store: ObjectStore, tmp_path: Path
) -> None:
    video = tmp_path / "clip.mp4"
    subprocess.run(
        [
            str(ffmpeg_path()),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=c=blue:s=64x64:d=1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(video),
        ],
        check=True,
    )
    store.upload_file(video, "presign-test/clip.mp4")
    env = json.loads(cli("services", "env", "--json").stdout)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    presigned = subprocess.run(
        [sys.executable, "-c", CLIENT, env["VIDEO_PIPELINE_BUCKET"], "presign-test/clip.mp4"],
        env={**clean, **{k: v for k, v in env.items() if k.startswith("AWS_")}},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert "X-Amz-Signature=" in presigned  # SigV4, from the generated AWS config file
    response = httpx.get(presigned, timeout=30)
    assert response.status_code == 200
    assert response.content == video.read_bytes()
    assert b"ftyp" in response.content[:16]
