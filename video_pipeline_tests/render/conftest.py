from __future__ import annotations

import pytest

from video_pipeline.models import Scene, Script
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
            duration_seconds=3,
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


@pytest.fixture(scope="session")
def speech() -> EspeakSpeech:
    return EspeakSpeech()


@pytest.fixture(scope="session")
def images() -> TitleCardImages:
    return TitleCardImages()
