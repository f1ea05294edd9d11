"""A demo project shipped with the package: honeybee material plus one creator transcript."""

from __future__ import annotations

from pathlib import Path

from video_pipeline.models import Project

DEMO_DIR = Path(__file__).parent / "demo"


def demo_project() -> Project:
    """The demo project, with its file sources' paths made absolute."""
    project = Project.model_validate_json((DEMO_DIR / "project.json").read_text("utf-8"))
    for source in project.sources:
        if source.kind == "file" and source.uri:
            source.uri = str(DEMO_DIR / source.uri)
    return project
