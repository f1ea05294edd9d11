from __future__ import annotations

from typing import Any

import pytest

from video_pipeline.models import ProjectSettings, Scene, Script, scene_seconds
from video_pipeline.providers.offline.images import TitleCardImages
from video_pipeline.providers.offline.speech import EspeakSpeech


def make_script(*narrations: str, on_screen: str | None = None) -> Script:
    scenes = [
        Scene(
            index=index,
            kind="hook" if index == 0 else "body",
            narration=narration,
            on_screen_text=on_screen if on_screen is not None else f"Scene {index + 1}",
            visual_description="a title card",
            duration_seconds=scene_seconds(len(narration.split()), 165),
        )
        for index, narration in enumerate(narrations)
    ]
    return Script(
        title="Render test",
        hook=narrations[0],
        scenes=scenes,
        call_to_action="Thanks for watching.",
        words_per_minute=165,
        provider="test",
    )


def settings_for(script: Script, **settings: Any) -> ProjectSettings:
    """Settings asking for the length the script was written for (at least the minimum)."""
    settings.setdefault("duration_seconds", max(5, script.estimated_duration_seconds))
    return ProjectSettings(**settings)


@pytest.fixture(scope="session")
def speech() -> EspeakSpeech:
    return EspeakSpeech()


@pytest.fixture(scope="session")
def images() -> TitleCardImages:
    return TitleCardImages()
