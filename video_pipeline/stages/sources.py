"""The sources stage: extract normalised text, with a hash, from each of a project's sources.

Every source is tried, and every one that cannot be used is named in one refusal: files
outside the uploads root, URLs that are refused or fail, text that is not language or not in
the project's language, and sizes over the limits.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from urllib.parse import unquote, urlparse

from dagster import Config
from pydantic import Field

from video_pipeline.config import setting
from video_pipeline.errors import PipelineInputError
from video_pipeline.models import ExtractedSource, Project, SourceInput, Sources
from video_pipeline.providers.languages import (
    detect,
    language_name,
    not_language,
    supported_languages,
)
from video_pipeline.render.errors import RenderError
from video_pipeline.render.probe import inspect_media
from video_pipeline.samples import DEMO_DIR
from video_pipeline.stages.fetch import FetchLimits, fetch
from video_pipeline.stages.formats import (
    FORMATS_BY_CONTENT_TYPE,
    FORMATS_BY_SUFFIX,
    Document,
    convert,
)
from video_pipeline.stages.validation import (
    MUSIC_TYPES,
    IntakeLimits,
    SpeechEngine,
    describe,
    intake_problems,
    megabytes,
    raw_project,
    refusal,
    source_problems,
)
from video_pipeline.text.normalise import normalise_whitespace

SYSTEM_TREES = (Path("/proc"), Path("/sys"), Path("/dev"), Path("/run"))
"""Never read, whatever the root: kernel and device files are not documents."""
MIN_DETECT_CHARS = 200
"""Shorter texts are not judged for their language: identification is unreliable there."""
DETECT_CONFIDENCE = 0.8


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
    base_dir: str | None = Field(default=None, description="where relative file paths resolve")
    file_root: str | None = setting(
        "VIDEO_PIPELINE_FILE_ROOT",
        None,
        "where `file` sources and music must lie; unset: `uploads/` under "
        "`VIDEO_PIPELINE_DATA_DIR` (`project create` copies local files there)",
    )
    allow_all_files: bool = setting(
        "VIDEO_PIPELINE_ALLOW_ALL_FILES",
        False,
        "`true` lets file sources name any file of the server (never /proc, /sys, /dev, /run): "
        "only for a single user's own machine; `services status` warns while it is on",
    )
    intake: IntakeLimits = IntakeLimits()

    @property
    def root(self) -> Path | None:
        """Where file sources must lie; None opens the whole filesystem."""
        return None if self.allow_all_files or not self.file_root else Path(self.file_root)

    @property
    def base(self) -> Path | None:
        return Path(self.base_dir) if self.base_dir else None


def extract_sources(
    project: Project, limits: IngestLimits | None = None, speech: SpeechEngine | None = None
) -> Sources:
    """Extract every source of `project`; every bad source is named in one refusal.

    `speech` is the engine that will speak the voice, so an unknown voice is named here.
    """
    limits = limits or IngestLimits()
    raw = raw_project(project)
    _settings, problems = intake_problems(raw, limits.intake, speech)
    statically_bad = {s.id for s in raw.sources if source_problems(s, limits.intake)}
    items = []
    total = 0
    for source in project.sources:
        if source.id in statically_bad:
            continue
        try:
            if source.role == "music":
                music_file(source, limits)
                continue
            item = extract_source(source, limits)
            language_problem(item, project.settings.language)
            item.language = project.settings.language
        except PipelineInputError as exc:
            problems.append(f"{describe(source)}: {exc}")
            continue
        total += len(item.text.encode("utf-8"))
        items.append(item)
    if total > limits.intake.max_total_bytes:
        problems.append(
            f"the sources' text adds up to {megabytes(total)}; the limit for a project is "
            f"{megabytes(limits.intake.max_total_bytes)}"
        )
    if problems:
        raise refusal(list(dict.fromkeys(problems)))
    return Sources(project_id=project.id, brief=normalise_whitespace(project.brief), items=items)


def language_problem(item: ExtractedSource, project_language: str) -> None:
    """Refuse text that is not natural language, or clearly in another language."""
    reason = not_language(item.text)
    if reason:
        raise PipelineInputError(f"this is not natural-language text: {reason}")
    if len(item.text) < MIN_DETECT_CHARS:
        return
    wanted = supported_languages().get(project_language)
    code, confidence = detect(item.text)
    if wanted is not None and code != wanted.code and confidence >= DETECT_CONFIDENCE:
        raise PipelineInputError(
            f"it is {language_name(code)} ({code}); the project's language is "
            f"{wanted.code} ({wanted.name}): give material in {wanted.name}, or set the "
            f"project's language to {code}"
        )


def music_file(source: SourceInput, limits: IngestLimits) -> Path:
    """The checked path of a music source: a file inside the root (a relative path or a
    `file:` URI resolved as for material), of an audio type, that ffmpeg reads as audio.
    The render plays this path, never the uri as written."""
    if source.kind != "file" or not source.uri:
        raise PipelineInputError("background music must be a local audio file (kind 'file')")
    path = readable_file(_local_path(source.uri, limits), limits)
    if path.suffix.lower() not in MUSIC_TYPES:
        raise PipelineInputError(
            f"background music must be one of {', '.join(MUSIC_TYPES)}, not '{path.suffix}'"
        )
    try:
        media = inspect_media(path)
    except RenderError:
        media = None
    if media is None or not any(s.kind == "audio" for s in media.streams):
        raise PipelineInputError(
            f"background music {path.name} is not a readable audio file (ffmpeg finds no "
            "audio in it): upload an mp3, wav, m4a, aac, ogg, opus or flac file"
        )
    if media.duration_seconds <= 0:
        raise PipelineInputError(f"background music {path.name} has no sound: it lasts 0 s")
    return path


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


def _local_path(uri: str, limits: IngestLimits) -> Path:
    """The path a file source names; `file://` URIs with a remote host are refused."""
    if uri.lower().startswith("file:"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            raise PipelineInputError("a file:// URI must name a local file (no host)")
        path = Path(unquote(parsed.path))
    else:
        path = Path(uri)
    if not path.is_absolute():
        path = (limits.base or limits.root or Path.cwd()) / path
    return path


def readable_file(path: Path, limits: IngestLimits) -> Path:
    """The fully resolved `path` (symlinks and `..` followed), when it is a regular file
    inside the root and outside the system trees; the refusal names the root."""
    resolved = Path(os.path.realpath(path))
    roots = [limits.root.resolve(), DEMO_DIR.resolve()] if limits.root else []
    if roots and not any(resolved.is_relative_to(root) for root in roots):
        raise PipelineInputError(
            f"file sources must be inside the uploads folder {roots[0]}; {path} is not "
            "(symlinks and '..' are resolved first): upload the file there"
        )
    if any(resolved.is_relative_to(tree) for tree in SYSTEM_TREES):
        raise PipelineInputError(f"{path} is a system file, not a document")
    try:
        mode = resolved.stat().st_mode
    except OSError as exc:
        raise PipelineInputError(f"file not found: {path}") from exc
    if not stat.S_ISREG(mode):
        raise PipelineInputError(
            f"{path} is not a regular file (a directory, device, socket or pipe)"
        )
    return resolved


def _from_file(uri: str, limits: IngestLimits) -> Document:
    path = _local_path(uri, limits)
    fmt = FORMATS_BY_SUFFIX.get(path.suffix.lower())
    if fmt is None:
        raise PipelineInputError(
            f"unsupported file type {path.suffix or '(no extension)'!r}; "
            f"supported: {', '.join(sorted(FORMATS_BY_SUFFIX))}"
        )
    resolved = readable_file(path, limits)
    # O_NONBLOCK: a FIFO swapped in after the check must not hang the open.
    fd = os.open(resolved, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise PipelineInputError(f"{path} is not a regular file")
        data = handle.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise PipelineInputError(
            f"the file is too large: the limit for a file is {megabytes(limits.max_bytes)}"
        )
    return convert(data, fmt)


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
