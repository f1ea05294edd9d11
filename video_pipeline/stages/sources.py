"""The sources stage: extract normalised text, with a hash, from each of a project's sources."""

from __future__ import annotations

import hashlib
from pathlib import Path
from urllib.parse import unquote, urlparse

from dagster import Config
from pydantic import Field

from video_pipeline.config import setting
from video_pipeline.errors import PipelineInputError
from video_pipeline.models import ExtractedSource, Project, SourceInput, Sources
from video_pipeline.stages.fetch import FetchLimits, fetch
from video_pipeline.stages.formats import (
    FORMATS_BY_CONTENT_TYPE,
    FORMATS_BY_SUFFIX,
    Document,
    convert,
)
from video_pipeline.text.normalise import normalise_whitespace


class IngestLimits(Config):
    """What a project's sources may be: sizes, fetch time, where files may live."""

    max_bytes: int = setting(
        "VIDEO_PIPELINE_MAX_SOURCE_BYTES", 10_000_000, "largest source file or download", gt=0
    )
    timeout_seconds: float = setting(
        "VIDEO_PIPELINE_FETCH_TIMEOUT", 15.0, "seconds per URL fetch", gt=0
    )
    max_redirects: int = Field(default=5, ge=0)
    allow_loopback: bool = setting(
        "VIDEO_PIPELINE_ALLOW_LOOPBACK_URLS",
        False,
        "allow URL sources on 127.0.0.0/8 (tests); private, link-local and metadata addresses "
        "are always refused",
    )
    base_dir: str | None = Field(default=None, description="where relative file paths are resolved")
    file_root: str | None = setting(
        "VIDEO_PIPELINE_FILE_ROOT",
        None,
        "when set, `file` sources (and music) must lie inside this folder; set it on a shared "
        "platform so a project cannot read other files of the server",
    )


def extract_sources(project: Project, limits: IngestLimits | None = None) -> Sources:
    """Extract every source of `project`; the first bad source stops with a message naming it."""
    limits = limits or IngestLimits()
    if not project.title.strip():
        raise PipelineInputError(f"Project {project.id} has no title: give the video a title.")
    if not project.brief.strip():
        raise PipelineInputError(
            f"Project {project.id} has an empty brief: describe in a sentence or two "
            "what the video should be about."
        )
    items = []
    for source in project.sources:
        try:
            if source.role == "music":
                check_music(source, limits)
            else:
                items.append(extract_source(source, limits))
        except PipelineInputError as exc:
            raise PipelineInputError(f"{describe(source)}: {exc}") from exc
    return Sources(project_id=project.id, brief=normalise_whitespace(project.brief), items=items)


MUSIC_TYPES = (".mp3", ".wav", ".m4a", ".aac", ".ogg", ".opus", ".flac")


def check_music(source: SourceInput, limits: IngestLimits) -> None:
    """Music is not text: it only has to be a readable local audio file for the render."""
    if source.kind != "file" or not source.uri:
        raise PipelineInputError("background music must be a local audio file (kind 'file')")
    path = _inside_root(Path(source.uri), limits)
    if path.suffix.lower() not in MUSIC_TYPES:
        raise PipelineInputError(
            f"background music must be one of {', '.join(MUSIC_TYPES)}, not '{path.suffix}'"
        )
    if not path.is_file():
        raise PipelineInputError(f"music file not found: {path}")


def describe(source: SourceInput) -> str:
    """How a message names a source, e.g. "Source 3 (file notes.pdf)"."""
    if source.kind == "text":
        return f"Source {source.id} (inline text)"
    return f"Source {source.id} ({source.kind} {source.uri})"


def extract_source(source: SourceInput, limits: IngestLimits) -> ExtractedSource:
    if source.kind == "text":
        document = Document(source.content or "", None)
    elif source.kind == "file":
        document = _from_file(_required_uri(source), limits)
    elif source.kind == "url":
        document = _from_url(_required_uri(source), limits)
    else:
        raise PipelineInputError(
            f"unsupported source kind {source.kind!r}; use 'text', 'file' or 'url'"
        )
    text = normalise_whitespace(document.text)
    if not text:
        raise PipelineInputError("the source is empty: it contains no readable text")
    return ExtractedSource(
        source_id=source.id,
        role=source.role,
        kind=source.kind,
        uri=source.uri,
        title=normalise_whitespace(document.title) if document.title else None,
        text=text,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        char_count=len(text),
    )


def _required_uri(source: SourceInput) -> str:
    if not source.uri or not source.uri.strip():
        raise PipelineInputError(f"a {source.kind} source needs a uri")
    return source.uri.strip()


def _inside_root(path: Path, limits: IngestLimits) -> Path:
    """Refuse a file outside the configured root, symlinks and `..` resolved first."""
    if limits.file_root is None:
        return path
    resolved, root = path.resolve(), Path(limits.file_root).resolve()
    if not resolved.is_relative_to(root):
        raise PipelineInputError(
            f"file sources must be inside {root}; {path} is not: upload the file there"
        )
    return resolved


def _from_file(uri: str, limits: IngestLimits) -> Document:
    path = Path(unquote(urlparse(uri).path)) if uri.startswith("file://") else Path(uri)
    if not path.is_absolute() and limits.base_dir is not None:
        path = Path(limits.base_dir) / path
    path = _inside_root(path, limits)
    fmt = FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise PipelineInputError(
            f"unsupported file type {path.suffix or '(no extension)'!r}; "
            f"supported: {', '.join(sorted(FORMATS_BY_SUFFIX))}"
        )
    if not path.is_file():
        raise PipelineInputError(f"file not found: {path}")
    if path.stat().st_size > limits.max_bytes:
        raise PipelineInputError(
            f"the file is too large ({path.stat().st_size / 1_000_000:.1f} MB; "
            f"the limit is {limits.max_bytes / 1_000_000:g} MB)"
        )
    return convert(path.read_bytes(), fmt)


def _from_url(uri: str, limits: IngestLimits) -> Document:
    fetched = fetch(
        uri,
        FetchLimits(
            max_bytes=limits.max_bytes,
            timeout_seconds=limits.timeout_seconds,
            allow_loopback=limits.allow_loopback,
            max_redirects=limits.max_redirects,
        ),
    )
    fmt = FORMATS_BY_CONTENT_TYPE.get(fetched.content_type or "") or FORMATS_BY_SUFFIX.get(
        Path(urlparse(fetched.url).path).suffix.lower()
    )
    if fmt is None:
        raise PipelineInputError(
            f"unsupported content type {fetched.content_type or '(none)'!r}; "
            "a URL must serve HTML, plain text, Markdown, CSV or PDF"
        )
    return convert(fetched.body, fmt, fetched.charset)
