"""Inputs shared by the OpenAI provider tests."""

from __future__ import annotations

import hashlib

from video_pipeline.models import ExtractedSource

OCTOPUS = (
    "Octopuses have three hearts and blue, copper-based blood. Two hearts pump blood "
    "through the gills, while the third pumps it to the rest of the body. An octopus can "
    "change the colour and texture of its skin in a fraction of a second.\n\nMost octopuses "
    "live for only one to two years. Their arms hold about two thirds of their neurons."
)
PAST_SCRIPT = (
    "Ever wondered why the ocean glows at night? Let's find out! Tiny plankton light up "
    "when the water moves. Pretty wild, right? Follow for more ocean weirdness."
)


def source(source_id: int, text: str, role: str = "material") -> ExtractedSource:
    return ExtractedSource.model_validate(
        {
            "source_id": source_id,
            "role": role,
            "kind": "text",
            "uri": None,
            "title": f"source {source_id}",
            "text": text,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "char_count": len(text),
        }
    )
