"""Find where a quoted passage sits in a source text.

A model can copy a sentence but cannot count characters, so citation spans are computed
here. Quotes are matched exactly first, then ignoring case, runs of whitespace, enclosing
punctuation and typographic quote/dash variants, which models often change while copying.
"""

from __future__ import annotations

_EQUIVALENT = str.maketrans(
    {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "}
)
_TRIM = " \t\n\"'.,;:…"


def _normalized(text: str) -> tuple[str, list[int]]:
    """`text` folded for matching, and for each folded character its index in `text`."""
    chars: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text.translate(_EQUIVALENT).lower()):
        if char.isspace():
            if chars and chars[-1] == " ":
                continue
            char = " "
        chars.append(char)
        positions.append(index)
    return "".join(chars), positions


def locate_quote(text: str, quote: str) -> tuple[int, int] | None:
    """The [start, end) span of `quote` in `text`, or None when it is not there."""
    quote = quote.strip()
    start = text.find(quote) if quote else -1
    if start >= 0:
        return start, start + len(quote)
    folded_quote, _ = _normalized(quote.strip(_TRIM))
    if not folded_quote:
        return None
    folded_text, positions = _normalized(text)
    found = folded_text.find(folded_quote)
    if found < 0:
        return None
    return positions[found], positions[found + len(folded_quote) - 1] + 1
