"""`video-pipeline serve`: Prometheus `/metrics`, `/health` (alive) and `/ready` (Postgres,
Dagster storage and S3 reachable) on one small threaded HTTP server."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app

from video_pipeline.doctor import readiness
from video_pipeline.metrics import PipelineCollector
from video_pipeline.settings import Settings
from video_pipeline.storage.db import engine_for

StartResponse = Callable[..., Any]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


def _queued_runs_counter() -> Callable[[], int]:
    """Counts queued Dagster runs on one instance, opened at the first scrape."""
    from dagster import DagsterInstance, DagsterRunStatus, RunsFilter

    instances: list[DagsterInstance] = []

    def count() -> int:
        if not instances:
            instances.append(DagsterInstance.get())
        queued = RunsFilter(statuses=[DagsterRunStatus.QUEUED])
        return int(instances[0].get_runs_count(queued))

    return count


def build_app(settings: Settings) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        PipelineCollector(engine_for(settings.require_database_url()), _queued_runs_counter())
    )
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "/")
        if path == "/metrics":
            return metrics(environ, start_response)
        if path == "/health":
            return _json(start_response, "200 OK", {"status": "alive"})
        if path == "/ready":
            checks = readiness(settings)
            ready = all(check.outcome == "ok" for check in checks)
            body = {
                "status": "ready" if ready else "not ready",
                "checks": {c.name: {"ok": c.outcome == "ok", "detail": c.detail} for c in checks},
            }
            return _json(start_response, "200 OK" if ready else "503 Service Unavailable", body)
        return _json(start_response, "404 Not Found", {"error": f"no such path {path}"})

    return app


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def make_metrics_server(settings: Settings, host: str, port: int) -> WSGIServer:
    return make_server(
        host, port, build_app(settings), server_class=_Server, handler_class=_QuietHandler
    )
