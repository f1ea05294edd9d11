"""Whitespace normalisation applied to every extracted source."""

from __future__ import annotations

import re
import unicodedata

_HORIZONTAL_SPACE = re.compile(r"[^\S\n]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def normalise_whitespace(text: str) -> str:
    """NFC-normalise, keep line and paragraph breaks, collapse every other run of whitespace.

    Lines are trimmed, runs of blank lines become one blank line (a paragraph break),
    and control characters are dropped.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text.replace("\u00a0", " ").replace("\ufeff", ""))
    lines = [_HORIZONTAL_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


def squash(text: str) -> str:
    """Collapse all whitespace (newlines included) to single spaces."""
    return " ".join(text.split())
