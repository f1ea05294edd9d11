"""Checking a project as a client wrote it, all at once, before any stage does work.

`validated_project` turns a request (the CLI's) into a `Project`, or raises one
`PipelineInputError` that lists every problem it can see without reading a file or the
network: a missing title, a blank brief, no material, each bad setting with its allowed
values, an unsupported language or voice, each source with an unknown role or kind, a
missing URI, an unsupported file type or an inline text over the limit, and the limits on
counts and lengths. For rows inserted by SQL, `loaded_project` refuses only what cannot be
represented, and the sources stage (the first stage, before any provider) lists every other
problem together with every source that cannot be read, in one message.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Any, Literal

from dagster import Config
from pydantic import BaseModel, Field, ValidationError

from video_pipeline.errors import PipelineInputError
from video_pipeline.layout import caption_overlap
from video_pipeline.models import Project, ProjectSettings, SourceInput
from video_pipeline.providers.languages import (
    OPENAI_VOICES,
    UNSEGMENTED,
    espeak_voices,
    language,
    language_name,
    supported_languages,
    voice_language,
    voices_for,
)
from video_pipeline.stages.formats import FORMATS_BY_SUFFIX

SpeechEngine = Literal["offline", "openai"]

ROLES = ("material", "reference", "music")
KINDS = ("text", "file", "url")
MUSIC_TYPES = (".mp3", ".wav", ".m4a", ".aac", ".ogg", ".opus", ".flac")


class IntakeLimits(Config):
    """What one project may send. Every refusal names the limit it hit."""

    max_title_chars: int = Field(default=300, gt=0)
    max_brief_chars: int = Field(default=20_000, gt=0)
    max_sources: int = Field(default=20, gt=0)
    max_inline_bytes: int = Field(default=1_000_000, gt=0, description="one inline text source")
    max_total_bytes: int = Field(default=20_000_000, gt=0, description="all sources of a project")


class RawSource(BaseModel):
    """A `project_sources` row before its role and kind are known to be valid."""

    id: int
    role: str
    kind: str
    uri: str | None = None
    content: str | None = None


class RawProject(BaseModel):
    id: str
    owner_id: str
    title: str
    brief: str
    # Any JSON value, as another service may store it: a wrong shape is one of the problems
    # `intake_problems` lists, not a validation error of its own.
    settings: Any = None
    sources: list[RawSource] = []


def raw_project(project: Project) -> RawProject:
    """A project back in the raw form, to check it again (e.g. against the speech engine)."""
    return RawProject(
        id=project.id,
        owner_id=project.owner_id,
        title=project.title,
        brief=project.brief,
        settings=project.settings.model_dump(exclude_unset=True),
        sources=[RawSource.model_validate(s.model_dump()) for s in project.sources],
    )


def megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def describe(source: RawSource | SourceInput) -> str:
    """How a message names a source, e.g. "source 3 (file notes.pdf)"; never its content."""
    if source.kind == "text":
        return f"source {source.id} (inline text)"
    uri = (source.uri or "").strip()
    shown = uri if len(uri) <= 120 else uri[:117] + "..."
    return f"source {source.id} ({source.kind} {shown!r})"


def _settings_problems(raw: Any) -> tuple[ProjectSettings | None, list[str]]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        return None, [
            "settings must be a JSON object of named settings, such as "
            f'{{"duration_seconds": 30}}; got {_json_kind(raw)}'
        ]
    try:
        settings = ProjectSettings.model_validate(raw)
    except ValidationError as exc:
        return None, [
            f"setting {'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            + (f" (got {err['input']!r})" if _short(err.get("input")) else "")
            for err in exc.errors()
        ]
    overlap = caption_overlap(settings.aspect, settings.resolution, settings.subtitle_style)
    return (None, [f"setting subtitle_style: {overlap}"]) if overlap else (settings, [])


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "true or false"
    return "a number"


def _short(value: Any) -> bool:
    return isinstance(value, str | int | float) and len(str(value)) <= 40


def _language_problems(settings: ProjectSettings, speech: SpeechEngine | None) -> list[str]:
    """The language must be one we identify and speak; the voice must speak it."""
    try:
        lang = language(settings.language)
    except KeyError:
        code = settings.language.strip().lower()
        why = (
            f" ({language_name(code)} is written without spaces between words, and finding "
            "its words needs a dictionary this system does not have)"
            if code in UNSEGMENTED
            else ""
        )
        return [
            f"setting language: {settings.language!r} is not supported{why}; use one of "
            + ", ".join(supported_languages())
        ]
    settings.language = lang.code
    if "voice" not in settings.model_fields_set:
        settings.voice = lang.default_voice
        return []
    voice = settings.voice.strip()
    if voice in OPENAI_VOICES:
        if speech == "offline":
            return [
                f"setting voice: {voice!r} is an OpenAI voice, but narration here is spoken "
                f"by espeak-ng; use one of {', '.join(voices_for(lang.code))} for {lang.name}"
            ]
        return []
    if voice.lower() in {v.lower() for v in espeak_voices()}:
        if voice_language(voice) == lang.code:
            return []
        return [
            f"setting voice: {voice!r} speaks {voice_language(voice)}, not the project's "
            f"language {lang.code} ({lang.name}); voices for {lang.name}: "
            + ", ".join(voices_for(lang.code))
            + (f", or an OpenAI voice: {', '.join(OPENAI_VOICES)}" if speech != "offline" else "")
        ]
    return [
        f"setting voice: there is no voice {voice!r}; voices for {lang.name}: "
        + ", ".join(voices_for(lang.code))
        + (f", or an OpenAI voice: {', '.join(OPENAI_VOICES)}" if speech != "offline" else "")
    ]


def source_problems(source: RawSource, limits: IntakeLimits) -> list[str]:
    """What is wrong with one source as written (its role, kind, URI, type, size)."""
    name = describe(source)
    problems = []
    if source.role not in ROLES:
        problems.append(f"{name} has role {source.role!r}; use one of {', '.join(ROLES)}")
    if source.kind not in KINDS:
        problems.append(f"{name} has kind {source.kind!r}; use one of {', '.join(KINDS)}")
        return problems
    if source.kind == "text":
        size = len((source.content or "").encode("utf-8"))
        if not (source.content or "").strip():
            problems.append(f"{name} is empty: give its text in `content`")
        elif size > limits.max_inline_bytes:
            problems.append(
                f"{name} is {megabytes(size)}; the limit for inline text is "
                f"{megabytes(limits.max_inline_bytes)} (upload it as a file instead)"
            )
        if source.role == "music":
            problems.append(f"{name}: background music must be an audio file (kind 'file')")
        return problems
    uri = (source.uri or "").strip()
    if not uri:
        return [*problems, f"{name} needs a uri"]
    if source.kind == "url":
        if not uri.lower().startswith(("http://", "https://")):
            problems.append(f"{name} is not an http or https URL")
        if source.role == "music":
            problems.append(f"{name}: background music must be a local audio file (kind 'file')")
        return problems
    suffix = PurePath(uri).suffix.lower()
    if source.role == "music":
        if suffix not in MUSIC_TYPES:
            problems.append(
                f"{name}: background music must be one of {', '.join(MUSIC_TYPES)}, "
                f"not {suffix or '(no extension)'!r}"
            )
    elif suffix not in FORMATS_BY_SUFFIX:
        problems.append(
            f"{name} has an unsupported file type {suffix or '(no extension)'!r}; "
            f"supported: {', '.join(sorted(FORMATS_BY_SUFFIX))}"
        )
    return problems


def _speaking_settings(raw: Any) -> ProjectSettings | None:
    """Language and voice alone, when the other settings are invalid: their problems are
    listed in the same message, not after the others are fixed."""
    if not isinstance(raw, dict):
        return None
    spoken = {key: raw[key] for key in ("language", "voice") if isinstance(raw.get(key), str)}
    try:
        return ProjectSettings.model_validate(spoken)
    except ValidationError:
        return None


def intake_problems(
    raw: RawProject, limits: IntakeLimits, speech: SpeechEngine | None = None
) -> tuple[ProjectSettings | None, list[str]]:
    """Every problem of `raw` that needs no file or network access, in reading order."""
    problems = []
    title, brief = raw.title.strip(), raw.brief.strip()
    if not title:
        problems.append("the project has no title: give the video a title")
    elif len(title) > limits.max_title_chars:
        problems.append(
            f"the title has {len(title):,} characters; the limit is {limits.max_title_chars:,}"
        )
    if not brief:
        problems.append(
            "the brief is empty: describe in a sentence or two what the video should be about"
        )
    elif len(brief) > limits.max_brief_chars:
        problems.append(
            f"the brief has {len(brief):,} characters; the limit is {limits.max_brief_chars:,}"
        )
    settings, setting_problems = _settings_problems(raw.settings)
    problems += setting_problems
    speaking = settings if settings is not None else _speaking_settings(raw.settings)
    if speaking is not None:
        problems += _language_problems(speaking, speech)
    if len(raw.sources) > limits.max_sources:
        problems.append(
            f"the project has {len(raw.sources)} sources; the limit is {limits.max_sources}"
        )
    for source in raw.sources:
        problems += source_problems(source, limits)
    if not any(s.role == "material" for s in raw.sources):
        problems.append(
            "the project has no material: add at least one source with role 'material' "
            "(text, a file or a URL about the subject)"
        )
    if sum(s.role == "music" for s in raw.sources) > 1:
        problems.append("the project has more than one music source; give at most one")
    inline = sum(len((s.content or "").encode("utf-8")) for s in raw.sources)
    if inline > limits.max_total_bytes:
        problems.append(
            f"the sources' inline text adds up to {megabytes(inline)}; the limit for a "
            f"project is {megabytes(limits.max_total_bytes)}"
        )
    return settings, problems


def refusal(problems: list[str]) -> PipelineInputError:
    """One error listing every problem, numbered when there are several."""
    if len(problems) == 1:
        return PipelineInputError(problems[0])
    listed = "; ".join(f"({n}) {p}" for n, p in enumerate(problems, 1))
    return PipelineInputError(f"{len(problems)} problems to fix: {listed}")


def validated_project(
    raw: RawProject, limits: IntakeLimits | None = None, speech: SpeechEngine | None = None
) -> Project:
    """The project, or a `PipelineInputError` listing every problem found."""
    settings, problems = intake_problems(raw, limits or IntakeLimits(), speech)
    if problems or settings is None:
        raise refusal(problems)
    return _project(raw, settings)


def loaded_project(raw: RawProject) -> Project:
    """The project as stored, refused only when its rows cannot be represented (invalid
    settings, an unknown role or kind), then with every problem listed. Other problems are
    left to the sources stage, which lists them together with every unreadable source."""
    settings, problems = intake_problems(raw, IntakeLimits())
    if settings is None or any(s.role not in ROLES or s.kind not in KINDS for s in raw.sources):
        raise refusal(problems)
    return _project(raw, settings)


def _project(raw: RawProject, settings: ProjectSettings) -> Project:
    return Project(
        id=raw.id,
        owner_id=raw.owner_id,
        title=raw.title.strip(),
        brief=raw.brief.strip(),
        settings=settings,
        sources=[SourceInput.model_validate(s.model_dump()) for s in raw.sources],
    )
