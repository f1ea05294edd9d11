"""Fixtures for the stage tests: the shipped demo project, processed once, and a tiny local
HTTP server for the URL sources."""

from __future__ import annotations

import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from video_pipeline.models import DnaProfile, Project, Research, Sources
from video_pipeline.providers.offline.content import OfflineContent
from video_pipeline.samples import DEMO_DIR, demo_project
from video_pipeline.stages.dna_profile import run_dna_profile
from video_pipeline.stages.research import run_research
from video_pipeline.stages.sources import extract_sources
from video_pipeline_tests.helpers import local_http_server

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="session")
def content() -> OfflineContent:
    return OfflineContent()


@pytest.fixture(scope="session")
def demo() -> Project:
    return demo_project()


@pytest.fixture(scope="session")
def demo_sources(demo: Project) -> Sources:
    return extract_sources(demo)


@pytest.fixture(scope="session")
def demo_research(demo_sources: Sources, content: OfflineContent) -> Research:
    return run_research(demo_sources, content)


@pytest.fixture(scope="session")
def demo_dna(demo_sources: Sources, content: OfflineContent) -> DnaProfile:
    return run_dna_profile(demo_sources, content)


_ROUTES: dict[str, tuple[int, dict[str, str], bytes]] = {
    "/page.html": (
        200,
        {"Content-Type": "text/html; charset=utf-8"},
        (DEMO_DIR / "beekeeping-history.html").read_bytes(),
    ),
    "/latin1": (
        200,
        {"Content-Type": "text/plain; charset=iso-8859-1"},
        (FIXTURES / "latin1.txt").read_bytes(),
    ),
    "/doc.pdf": (200, {"Content-Type": "application/pdf"}, (FIXTURES / "bicycle.pdf").read_bytes()),
    "/notes.md": (200, {"Content-Type": "text/markdown"}, (DEMO_DIR / "honeybees.md").read_bytes()),
    "/binary": (200, {"Content-Type": "application/octet-stream"}, b"\x00\x01\x02"),
    "/empty.txt": (200, {"Content-Type": "text/plain"}, b"  \n \n"),
    "/big.txt": (200, {"Content-Type": "text/plain"}, b"honey " * 2000),
    "/redirect": (302, {"Location": "/page.html"}, b""),
    "/redirect-metadata": (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""),
    "/redirect-private": (301, {"Location": "http://10.0.0.7/admin"}, b""),
    "/loop": (302, {"Location": "/loop"}, b""),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(3)
        status, headers, body = _ROUTES.get(self.path, (404, {"Content-Type": "text/plain"}, b""))
        try:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass  # the client gave up (the timeout test)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def local_server() -> Iterator[str]:
    """Base URL of a server on 127.0.0.1 serving `_ROUTES` (and /slow, which answers late)."""
    with local_http_server(_Handler) as base_url:
        yield base_url
