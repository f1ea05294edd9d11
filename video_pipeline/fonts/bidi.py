"""The order in which a line's font runs appear, for a line that mixes directions.

Pillow (through raqm) reorders and shapes the text of one call, but a line set in several
fonts is drawn as several calls: each run must be placed where the Unicode bidirectional
algorithm puts it. This is that algorithm for one line without explicit embeddings (which
the text here never carries): paragraph direction from the first strong letter, weak and
neutral types resolved (rules W1-W7, N1-N2), implicit levels (I1-I2), and runs of a level
and a font reordered (L2). Within a run, raqm orders the characters itself.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from typing import TypeVar

Run = TypeVar("Run")

_STRONG_RIGHT = {"R", "AL"}
_NEUTRAL = {"B", "S", "WS", "ON", "BN", "LRI", "RLI", "FSI", "PDI"}


def levels(text: str) -> list[int]:
    """The embedding level of each character: even left to right, odd right to left."""
    types = [unicodedata.bidirectional(char) or "ON" for char in text]
    paragraph = next((int(t in _STRONG_RIGHT) for t in types if t in {"L", *_STRONG_RIGHT}), 0)
    _resolve_weak(types, paragraph)
    _resolve_neutral(types, paragraph)
    resolved = []
    for kind in types:
        if paragraph == 0:
            resolved.append({"R": 1, "AN": 2, "EN": 2}.get(kind, 0))
        else:
            resolved.append(2 if kind in {"L", "EN", "AN"} else 1)
    return resolved


def visual_order(runs: Sequence[Run], run_levels: Sequence[int]) -> list[Run]:
    """`runs` (each of one level) in the order they appear from left to right (rule L2)."""
    order = list(range(len(runs)))
    odd = [level for level in run_levels if level % 2]
    if not odd:
        return list(runs)
    for level in range(max(run_levels), min(odd) - 1, -1):
        start = None
        for position in range(len(order) + 1):
            inside = position < len(order) and run_levels[order[position]] >= level
            if inside and start is None:
                start = position
            elif not inside and start is not None:
                order[start:position] = reversed(order[start:position])
                start = None
    return [runs[index] for index in order]


def _resolve_weak(types: list[str], paragraph: int) -> None:
    sos = "R" if paragraph else "L"
    previous, strong = sos, sos
    for i, kind in enumerate(types):
        if kind == "NSM":  # W1: a mark takes its base's type
            kind = previous
        if kind == "EN" and strong == "AL":  # W2
            kind = "AN"
        if kind in {"L", "R", "AL"}:
            strong = kind
        if kind == "AL":  # W3
            kind = "R"
        types[i] = previous = kind
    for i in range(1, len(types) - 1):  # W4: one separator between two numbers
        before, after = types[i - 1], types[i + 1]
        if types[i] == "ES" and before == after == "EN":
            types[i] = "EN"
        elif types[i] == "CS" and before == after and before in {"EN", "AN"}:
            types[i] = before
    for i, kind in enumerate(types):  # W5: terminators next to a number
        if kind == "ET":
            j = i
            while j < len(types) and types[j] == "ET":
                j += 1
            k = i - 1
            if (j < len(types) and types[j] == "EN") or (k >= 0 and types[k] == "EN"):
                for m in range(i, j):
                    types[m] = "EN"
    strong = sos
    for i, kind in enumerate(types):
        if kind in {"ET", "ES", "CS"}:  # W6
            types[i] = kind = "ON"
        if kind in {"L", "R"}:
            strong = kind
        elif kind == "EN" and strong == "L":  # W7
            types[i] = "L"


def _resolve_neutral(types: list[str], paragraph: int) -> None:
    """N1-N2: a stretch of neutrals between two letters of one direction (numbers count as
    right to left) takes it; any other takes the paragraph's."""
    side = "R" if paragraph else "L"
    i = 0
    while i < len(types):
        if types[i] not in _NEUTRAL:
            i += 1
            continue
        j = i
        while j < len(types) and types[j] in _NEUTRAL:
            j += 1
        before = _direction(types[i - 1]) if i > 0 else side
        after = _direction(types[j]) if j < len(types) else side
        for k in range(i, j):
            types[k] = before if before == after else side
        i = j


def _direction(kind: str) -> str:
    return "R" if kind in {"R", "EN", "AN"} else "L"
