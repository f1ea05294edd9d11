"""One interface per capability. Each has an offline and an OpenAI implementation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel

from video_pipeline.models import (
    MAX_FACTS,
    CameraMotion,
    DnaProfile,
    ExtractedSource,
    ProjectSettings,
    Research,
    Scene,
    Script,
)


class ProviderError(RuntimeError):
    """A provider failed in a way a user can act on; the message says how.

    `transient` marks failures that may pass on their own (rate limits, server errors,
    timeouts that outlasted the provider's own retries): the stage's retry policy may try
    again later. Anything else (a rejected key, a refusal, an invalid reply) fails at once.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


class WordTiming(BaseModel):
    word: str
    start: float
    end: float


class Narration(BaseModel):
    """A spoken text: a WAV file on disk plus when each word is said."""

    audio_path: Path
    duration_seconds: float
    words: list[WordTiming]


class ModerationScores(BaseModel):
    """Per category, a score in [0, 1] and the phrases that produced it."""

    scores: dict[str, float]
    evidence: dict[str, list[str]]


class ContentProvider(Protocol):
    """Text understanding and writing: research, style profiling, scripting."""

    name: str

    def research(
        self, brief: str, material: list[ExtractedSource], most_facts: int = MAX_FACTS
    ) -> Research: ...

    def dna_profile(self, references: list[ExtractedSource]) -> DnaProfile: ...

    def write_script(
        self, title: str, brief: str, research: Research, dna: DnaProfile, settings: ProjectSettings
    ) -> Script: ...


class ModerationProvider(Protocol):
    name: str

    def moderate(self, texts: list[str]) -> ModerationScores: ...


class EmbeddingProvider(Protocol):
    name: str
    model: str
    dimension: int

    def embed(self, texts: list[str]) -> list[list[float]]: ...


class SpeechProvider(Protocol):
    name: str

    def synthesize(
        self, text: str, voice: str, out_path: Path, language: str | None = None
    ) -> Narration:
        """Speak `text` with `voice`; `language` (ISO 639-1) is the text's language."""
        ...


class ImageProvider(Protocol):
    name: str

    def scene_image(
        self,
        scene: Scene,
        title: str,
        width: int,
        height: int,
        out_path: Path,
        motion: CameraMotion = "none",
    ) -> Path: ...

    """`motion` is the camera's over the picture: text on it keeps to the part that stays
    in view (`layout.on_screen_text_area`)."""


@dataclass(frozen=True)
class Providers:
    content: ContentProvider
    moderation: ModerationProvider
    embeddings: EmbeddingProvider
    speech: SpeechProvider
    images: ImageProvider


class UsageRecord(BaseModel):
    """One provider call: what it used and what it cost, or, for an attempt that failed,
    the kind of failure (`error`), which costs nothing."""

    provider: str
    capability: str
    model: str
    input_units: int = 0
    output_units: int = 0
    unit: str = "tokens"
    latency_ms: float = 0.0
    cost_usd: float = 0.0
    cached: bool = False
    error: str | None = None
