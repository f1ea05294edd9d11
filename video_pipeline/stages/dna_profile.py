"""The dna_profile stage: the creator's style, measured from their reference material."""

from __future__ import annotations

from video_pipeline.models import DnaProfile, ExtractedSource, Sources, neutral_profile
from video_pipeline.providers.base import ContentProvider


def run_dna_profile(
    sources: Sources,
    provider: ContentProvider,
    earlier_references: list[ExtractedSource] | None = None,
) -> DnaProfile:
    """Profile the project's references; without any, the owner's earlier projects' ones.

    With neither there is nothing to measure or ask about: the neutral default profile.
    """
    references = sources.by_role("reference")
    if references:
        return provider.dna_profile(references)
    if not earlier_references:
        return neutral_profile(provider.name)
    profile = provider.dna_profile(earlier_references)
    return profile.model_copy(
        update={
            "basis": f"{profile.basis} (the project has no references; these come from the "
            f"owner's earlier projects)"
        }
    )
