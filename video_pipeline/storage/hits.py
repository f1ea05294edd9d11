"""One search result, whichever way it was found."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SearchHit:
    chunk_id: int
    project_id: str
    kind: str
    ref: str
    content: str
    # Higher is better: cosine similarity (vector), term frequency (text), fused rank (hybrid).
    score: float

    @classmethod
    def from_row(cls, row: Any) -> SearchHit:
        return cls(
            int(row.id), str(row.project_id), row.kind, row.ref, row.content, float(row.score)
        )
