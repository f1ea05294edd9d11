"""Usage records for the offline providers: every call is recorded as the OpenAI ones are,
with its characters (images: one per picture), its time and a cost of 0."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

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
from video_pipeline.providers.base import (
    ContentProvider,
    EmbeddingProvider,
    ImageProvider,
    ModerationProvider,
    ModerationScores,
    Narration,
    Providers,
    SpeechProvider,
    UsageRecord,
)

Sink = Callable[[UsageRecord], None]
T = TypeVar("T")


class _Meter:
    def __init__(self, name: str, capability: str, sink: Sink) -> None:
        self.name, self._capability, self._sink = name, capability, sink

    def _timed(self, call: Callable[[], T], chars_in: int, out: Callable[[T], int], unit: str) -> T:
        started = time.perf_counter()
        result = call()
        self._sink(
            UsageRecord(
                provider=self.name,
                capability=self._capability,
                model=self.name,
                input_units=chars_in,
                output_units=out(result),
                unit=unit,
                latency_ms=(time.perf_counter() - started) * 1000,
                cost_usd=0.0,
            )
        )
        return result


def _chars(model: Research | DnaProfile | Script) -> int:
    return len(model.model_dump_json())


class _Content(_Meter):
    def __init__(self, inner: ContentProvider, sink: Sink) -> None:
        super().__init__(inner.name, "content", sink)
        self._inner = inner

    def research(
        self, brief: str, material: list[ExtractedSource], most_facts: int = MAX_FACTS
    ) -> Research:
        size = len(brief) + sum(s.char_count for s in material)
        return self._timed(
            lambda: self._inner.research(brief, material, most_facts), size, _chars, "characters"
        )

    def dna_profile(self, references: list[ExtractedSource]) -> DnaProfile:
        size = sum(s.char_count for s in references)
        return self._timed(lambda: self._inner.dna_profile(references), size, _chars, "characters")

    def write_script(
        self, title: str, brief: str, research: Research, dna: DnaProfile, settings: ProjectSettings
    ) -> Script:
        size = len(title) + len(brief) + _chars(research)
        return self._timed(
            lambda: self._inner.write_script(title, brief, research, dna, settings),
            size,
            _chars,
            "characters",
        )


class _Moderation(_Meter):
    def __init__(self, inner: ModerationProvider, sink: Sink) -> None:
        super().__init__(inner.name, "moderation", sink)
        self._inner = inner

    def moderate(self, texts: list[str]) -> ModerationScores:
        size = sum(len(t) for t in texts)
        return self._timed(lambda: self._inner.moderate(texts), size, lambda _: 0, "characters")


class _Embeddings(_Meter):
    def __init__(self, inner: EmbeddingProvider, sink: Sink) -> None:
        super().__init__(inner.name, "embeddings", sink)
        self._inner = inner
        self.model, self.dimension = inner.model, inner.dimension

    def embed(self, texts: list[str]) -> list[list[float]]:
        size = sum(len(t) for t in texts)
        return self._timed(lambda: self._inner.embed(texts), size, lambda _: 0, "characters")


class _Speech(_Meter):
    def __init__(self, inner: SpeechProvider, sink: Sink) -> None:
        super().__init__(inner.name, "speech", sink)
        self._inner = inner

    def synthesize(
        self, text: str, voice: str, out_path: Path, language: str | None = None
    ) -> Narration:
        return self._timed(
            lambda: self._inner.synthesize(text, voice, out_path, language),
            len(text),
            lambda _: 0,
            "characters",
        )


class _Images(_Meter):
    def __init__(self, inner: ImageProvider, sink: Sink) -> None:
        super().__init__(inner.name, "images", sink)
        self._inner = inner

    def scene_image(
        self,
        scene: Scene,
        title: str,
        width: int,
        height: int,
        out_path: Path,
        motion: CameraMotion = "none",
    ) -> Path:
        return self._timed(
            lambda: self._inner.scene_image(scene, title, width, height, out_path, motion),
            0,
            lambda _: 1,
            "images",
        )


def metered(providers: Providers, sink: Sink) -> Providers:
    """The same providers, each call recorded through `sink`."""
    return Providers(
        content=_Content(providers.content, sink),
        moderation=_Moderation(providers.moderation, sink),
        embeddings=_Embeddings(providers.embeddings, sink),
        speech=_Speech(providers.speech, sink),
        images=_Images(providers.images, sink),
    )
