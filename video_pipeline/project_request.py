"""Validating a new project before it is inserted (the CLI and the demo use this)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator

from video_pipeline.models import ProjectSettings, SourceInput, SourceRole
from video_pipeline.stages.formats import FORMATS_BY_SUFFIX
from video_pipeline.stages.sources import MUSIC_TYPES


class ProjectRequest(BaseModel):
    owner_id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=300)
    brief: str = Field(min_length=1, max_length=20_000)
    settings: ProjectSettings = ProjectSettings()
    sources: list[SourceInput] = []

    @field_validator("title", "brief", "owner_id")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


def source_from_argument(argument: str, role: SourceRole) -> SourceInput:
    """`@text` is inline text, `http(s)://…` a URL, anything else a local file path."""
    if argument.startswith("@"):
        if not argument[1:].strip():
            raise ValueError("an inline @text source is empty")
        return SourceInput(id=0, role=role, kind="text", content=argument[1:])
    if argument.startswith(("http://", "https://")):
        return SourceInput(id=0, role=role, kind="url", uri=argument)
    path = Path(argument).expanduser().resolve()
    if not path.is_file():
        raise ValueError(f"source file {argument} does not exist")
    if path.suffix.lower() not in FORMATS_BY_SUFFIX:
        raise ValueError(
            f"source file {argument} has an unsupported type '{path.suffix}': use one of "
            + ", ".join(sorted(FORMATS_BY_SUFFIX))
        )
    return SourceInput(id=0, role=role, kind="file", uri=str(path))


def music_source(argument: str) -> SourceInput:
    """A background music track: a local audio file."""
    path = Path(argument).expanduser().resolve()
    if not path.is_file():
        raise ValueError(f"music file {argument} does not exist")
    if path.suffix.lower() not in MUSIC_TYPES:
        raise ValueError(f"music file {argument} must be one of {', '.join(MUSIC_TYPES)}")
    return SourceInput(id=0, role="music", kind="file", uri=str(path))
