"""What the LLM is asked to return. Kept apart from the contract models: these hold only
what a model can produce reliably (quotes, not character offsets; words, not timings)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Reply(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FactReply(Reply):
    text: str = Field(description="the fact, restated plainly in one sentence")
    source_id: int = Field(description="the source the fact comes from")
    quote: str = Field(description="a sentence or clause copied verbatim from that source")


class ResearchReply(Reply):
    summary: str
    facts: list[FactReply]
    topics: list[str]
    outline: list[str]
    open_questions: list[str]


class DnaReply(Reply):
    tone: str = Field(description="a few words, e.g. 'playful, curious'")
    energy: float = Field(description="0 calm to 1 intense")
    formality: float = Field(description="0 casual to 1 formal")
    words_per_minute: float = Field(description="the speaking pace the style suggests")
    signature_vocabulary: list[str]
    hook_patterns: list[str]
    cta_patterns: list[str]
    audience: str


class SceneReply(Reply):
    kind: Literal["hook", "body", "cta"]
    narration: str = Field(description="only the words spoken")
    on_screen_text: str = Field(description="at most 8 words")
    visual_description: str = Field(description="one concrete image, with no text in it")
    fact_ids: list[str] = Field(description="ids of the research facts this scene states")


class ScriptReply(Reply):
    scenes: list[SceneReply]
