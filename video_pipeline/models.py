"""The typed contract between stages: every asset produces and consumes one of these models."""

from __future__ import annotations

import math
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Aspect = Literal["9:16", "16:9", "1:1"]
Resolution = Literal["720p", "1080p"]
SourceRole = Literal["material", "reference", "music"]
SourceKind = Literal["text", "file", "url"]
ProjectStatus = Literal[
    "new",
    "queued",
    "running",
    "needs_review",
    "done",
    "failed",
    "blocked",
    "rejected",
    "deferred",
    "canceled",
]
SafetyDecision = Literal["allow", "review", "block"]
CameraMotion = Literal["none", "zoom", "pan"]
Priority = Literal["high", "normal", "low"]


_FONT_FAMILY = re.compile(r"[^\W_][\w .'-]{0,63}")


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


# --------------------------------------------------------------------------- project input


class SubtitleStyle(Contract):
    """How burned-in captions look; defaults respect each aspect's safe area."""

    font: str = Field("DejaVu Sans", description="a font family name, e.g. 'DejaVu Sans'")
    size_ratio: float = Field(0.045, gt=0.01, le=0.2, description="font size / frame height")
    primary_colour: str = Field("#FFFFFF", pattern=r"^#[0-9A-Fa-f]{6}$")
    outline_colour: str = Field("#000000", pattern=r"^#[0-9A-Fa-f]{6}$")
    outline: float = Field(3.0, ge=0, le=20)
    bottom_margin_ratio: float = Field(0.12, ge=0, le=0.5, description="margin / frame height")
    max_chars_per_line: int = Field(32, ge=8, le=80)
    mode: Literal["lines", "karaoke", "pop"] = Field(
        "lines",
        description="lines: each caption whole; karaoke: the word being spoken highlighted; "
        "pop: one word at a time",
    )
    highlight_colour: str = Field("#FFD23F", pattern=r"^#[0-9A-Fa-f]{6}$")

    @field_validator("font")
    @classmethod
    def _a_family_name(cls, font: str) -> str:
        """The name goes into the caption file's style line: nothing that could end it."""
        if not _FONT_FAMILY.fullmatch(font):
            raise ValueError(
                "a font family name is letters, digits, spaces, '-', '.' or an apostrophe "
                f"(at most 64 characters), e.g. 'DejaVu Sans'; got {font[:80]!r}"
            )
        return font


class ProjectSettings(Contract):
    aspect: Aspect = "9:16"
    resolution: Resolution = "720p"
    duration_seconds: float = Field(30.0, ge=5, le=900)
    voice: str = "en-us"
    language: str = "en"
    max_cost_usd: float | None = Field(None, ge=0)
    subtitle_style: SubtitleStyle = SubtitleStyle()
    camera_motion: CameraMotion = Field(
        "none", description="a slow zoom into, or pan across, each scene's picture"
    )
    crossfade_seconds: float = Field(
        0.0, ge=0, le=1.5, description="blend from one scene into the next; 0 cuts"
    )
    webhook_url: str | None = Field(
        None,
        pattern=r"^https?://",
        description="receives the project's signed status events; overrides the owner's "
        "and the deployment's default",
    )
    priority: Priority = Field(
        "normal", description="place in the run queue: high runs before normal, normal before low"
    )


class SourceInput(Contract):
    """One row of `project_sources` as another service inserts it."""

    id: int
    role: SourceRole
    kind: SourceKind
    uri: str | None = None
    content: str | None = None


class Project(Contract):
    id: str
    owner_id: str
    title: str
    brief: str
    settings: ProjectSettings
    sources: list[SourceInput]

    @property
    def music(self) -> SourceInput | None:
        """The background music track, if the project has one."""
        return next((s for s in self.sources if s.role == "music"), None)


# --------------------------------------------------------------------------- stage outputs


class ExtractedSource(Contract):
    source_id: int
    role: SourceRole
    kind: SourceKind
    uri: str | None
    title: str | None
    text: str
    sha256: str
    char_count: int
    language: str = Field("en", description="ISO 639-1 code of the text (the project's)")


class Sources(Contract):
    project_id: str
    brief: str
    items: list[ExtractedSource]

    def by_role(self, role: SourceRole) -> list[ExtractedSource]:
        return [s for s in self.items if s.role == role]

    def get(self, source_id: int) -> ExtractedSource:
        for item in self.items:
            if item.source_id == source_id:
                return item
        raise KeyError(f"no source {source_id} in project {self.project_id}")


class Citation(Contract):
    """A character span [start, end) of one extracted source's text."""

    source_id: int
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class KeyFact(Contract):
    id: str = Field(pattern=r"^F\d+$")
    text: str
    citation: Citation


class Research(Contract):
    summary: str
    key_facts: list[KeyFact]
    topics: list[str]
    outline: list[str]
    open_questions: list[str]
    provider: str

    def fact(self, fact_id: str) -> KeyFact:
        for fact in self.key_facts:
            if fact.id == fact_id:
                return fact
        raise KeyError(fact_id)


class SentenceLengths(Contract):
    mean: float
    median: float
    p90: float


class DnaProfile(Contract):
    tone: str
    energy: float = Field(ge=0, le=1)
    formality: float = Field(ge=0, le=1)
    words_per_minute: float = Field(gt=0)
    sentence_length: SentenceLengths
    signature_vocabulary: list[str]
    hook_patterns: list[str]
    cta_patterns: list[str]
    audience: str
    basis: str = Field(description="what the profile was measured from")
    provider: str


class CategoryScore(Contract):
    category: str
    score: float = Field(ge=0, le=1)
    review_at: float
    block_at: float
    evidence: list[str] = []


class SafetyReport(Contract):
    decision: SafetyDecision
    scores: list[CategoryScore]
    reasons: list[str]
    scope: Literal["input", "script"] = "input"
    provider: str


# --------------------------------------------------------------------------- contract rules

MIN_FACTS, MAX_FACTS = 5, 15
"""How many key facts a research result holds (a long video may have more: `max_facts`)."""
SECONDS_PER_FACT = 5.0
"""About the shortest time a fact takes to say, with its pause."""


def max_facts(duration_seconds: float) -> int:
    """How many key facts research may keep for a video of this length: enough to fill it
    with facts of the shortest kind (a 15-minute video needs about a hundred)."""
    return max(MAX_FACTS, math.ceil(duration_seconds / SECONDS_PER_FACT))


DURATION_TOLERANCE = 0.10
"""How far a script's length may be from the project's `duration_seconds`, as a share."""
MIN_DURATION_SLACK_SECONDS = 1.0
"""...and at least this far: a second of pause or held picture, which the render's length
fit adds or takes away, matters in a 6 s video."""


def duration_slack(seconds: float) -> float:
    """How far a script of a `seconds` video may run from it, either way."""
    return max(DURATION_TOLERANCE * seconds, MIN_DURATION_SLACK_SECONDS)


PACE_TOLERANCE = 0.15
"""How far a script's words per minute may be from the style profile's, as a share."""
DEFAULT_WORDS_PER_MINUTE = 150.0
"""The neutral profile's narration pace (voice-over and explainer speech runs about 140–160
words/min)."""
SCENE_PAUSE_SECONDS = 0.4
"""The silence after each scene's narration. A scene's `duration_seconds` includes it, and the
render places it, so the script's total is the video's length."""


def neutral_profile(provider: str) -> DnaProfile:
    """The style used when there is nothing to measure: no references, no earlier projects."""
    return DnaProfile(
        tone="neutral, informative",
        energy=0.5,
        formality=0.5,
        words_per_minute=DEFAULT_WORDS_PER_MINUTE,
        sentence_length=SentenceLengths(mean=15.0, median=14.0, p90=24.0),
        signature_vocabulary=[],
        hook_patterns=["question: opens with a question about the subject"],
        cta_patterns=["follow: “Follow for more.”"],
        audience="general audience",
        basis="no reference material: neutral defaults",
        provider=provider,
    )


def scene_seconds(word_count: int, words_per_minute: float) -> float:
    """How long a scene of `word_count` spoken words lasts, pause included."""
    return round(word_count / words_per_minute * 60 + SCENE_PAUSE_SECONDS, 2)


class Scene(Contract):
    index: int
    kind: Literal["hook", "body", "cta"] = "body"
    narration: str
    on_screen_text: str
    visual_description: str
    duration_seconds: float = Field(gt=0)
    fact_ids: list[str] = []


class Script(Contract):
    title: str
    hook: str
    scenes: list[Scene]
    call_to_action: str
    words_per_minute: float
    provider: str

    @property
    def estimated_duration_seconds(self) -> float:
        return sum(scene.duration_seconds for scene in self.scenes)

    @field_validator("scenes")
    @classmethod
    def _scenes_not_empty(cls, scenes: list[Scene]) -> list[Scene]:
        if not scenes:
            raise ValueError("a script needs at least one scene")
        return scenes


class EmbeddingsSummary(Contract):
    model: str
    dimension: int
    chunk_count: int
    chunks_by_kind: dict[str, int]
    provider: str


class StreamFacts(Contract):
    codec: str
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    sample_rate: int | None = None
    channels: int | None = None


class ProbeFacts(Contract):
    duration_seconds: float
    size_bytes: int
    bit_rate: int
    video: list[StreamFacts]
    audio: list[StreamFacts]


class RenderResult(Contract):
    video_uri: str
    thumbnail_uri: str
    srt_uri: str
    vtt_uri: str
    scene_frame_uris: list[str]
    probe: ProbeFacts
    width: int
    height: int
    narration_seconds: float
    caption_count: int
    encode_seconds: float
    realtime_factor: float
