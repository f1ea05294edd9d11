"""The offline content provider: extractive research, measured style, extractive script."""

from __future__ import annotations

from video_pipeline.models import (
    MAX_FACTS,
    DnaProfile,
    ExtractedSource,
    ProjectSettings,
    Research,
    Script,
)
from video_pipeline.providers.offline.research import extractive_research
from video_pipeline.providers.offline.scriptwriter import extractive_script
from video_pipeline.providers.offline.style import measure_style


class OfflineContent:
    """A `ContentProvider` that needs no network. Its facts are sentences of the material
    and its script reads them verbatim; nothing is generated that the sources do not say."""

    name = "offline"

    def research(
        self, brief: str, material: list[ExtractedSource], most_facts: int = MAX_FACTS
    ) -> Research:
        return extractive_research(brief, material, self.name, most_facts)

    def dna_profile(self, references: list[ExtractedSource]) -> DnaProfile:
        return measure_style(references, self.name)

    def write_script(
        self, title: str, brief: str, research: Research, dna: DnaProfile, settings: ProjectSettings
    ) -> Script:
        return extractive_script(title, brief, research, dna, settings, self.name)
