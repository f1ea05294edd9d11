"""Binary artifacts in S3 (or anything that speaks its API) through boto3."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config as BotoConfig
from dagster import Config
from pydantic import PrivateAttr

from video_pipeline.config import setting

# Multipart above 8 MiB, in 8 MiB parts: the object only appears at its key when the
# upload completes, so an interrupted upload never leaves a partial object behind.
TRANSFER = TransferConfig(multipart_threshold=8 * 1024 * 1024, multipart_chunksize=8 * 1024 * 1024)


class ObjectStore(Config):
    """A bucket in S3 (or anything that speaks its API). Credentials left unset use boto3's
    default chain; the client is built once per store."""

    bucket: str = setting("VIDEO_PIPELINE_BUCKET", "video-pipeline", "S3 bucket for artifacts")
    endpoint_url: str | None = setting(
        "AWS_ENDPOINT_URL_S3", None, "S3 endpoint; unset with real AWS (the embedded S3 sets it)"
    )
    region: str = setting("AWS_DEFAULT_REGION", "us-east-1", "S3 region")
    access_key_id: str | None = setting(
        "AWS_ACCESS_KEY_ID", None, "S3 key id; unset: boto3's default chain", secret=True
    )
    secret_access_key: str | None = setting(
        "AWS_SECRET_ACCESS_KEY", None, "S3 secret key; unset: boto3's default chain", secret=True
    )
    _client: Any = PrivateAttr(default=None)

    @property
    def client(self) -> Any:
        """The client of every transfer: a server that stops answering fails a request
        after a minute (and three tries) instead of holding it for good."""
        if self._client is None:
            self._client = self._new_client(connect=10, read=60, attempts=3)
        return self._client

    def probe_client(self) -> Any:
        """A client for health checks, which must answer within seconds: one try, short
        timeouts."""
        return self._new_client(connect=3, read=5, attempts=1)

    def _new_client(self, connect: float, read: float, attempts: int) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            config=BotoConfig(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                connect_timeout=connect,
                read_timeout=read,
                retries={"mode": "standard", "max_attempts": attempts},
            ),
        )

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def ensure_bucket(self) -> None:
        client = self.client
        existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
        if self.bucket not in existing:
            client.create_bucket(Bucket=self.bucket)

    def upload_file(self, path: Path, key: str) -> str:
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self.client.upload_file(
            str(path), self.bucket, key, ExtraArgs={"ContentType": content_type}, Config=TRANSFER
        )
        return self.uri(key)

    def copy_within(self, source_key: str, key: str) -> str:
        """Copy an object inside the bucket (server-side, one request: up to 5 GB)."""
        self.client.copy_object(
            Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": source_key}
        )
        return self.uri(key)

    def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is no such object."""
        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
        except self.client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def download_file(self, key: str, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.client.download_file(self.bucket, key, str(path), Config=TRANSFER)
        return path

    def list_keys(self, prefix: str) -> list[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        keys: list[str] = []
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys

    def delete_keys(self, keys: Iterable[str]) -> None:
        client = self.client
        for key in keys:
            client.delete_object(Bucket=self.bucket, Key=key)

    def read_bytes(self, key: str) -> bytes:
        """A small object's content (e.g. a thumbnail), read into memory."""
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def presigned_url(self, key: str, expires_seconds: int = 3600) -> str:
        return str(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_seconds
            )
        )


def key_from_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ValueError(f"not an s3:// URI: {uri}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key
