"""Fonts that install with the package, so output never depends on the machine's fonts.

DejaVu Sans (shipped here, see LICENSE) sets Latin, Greek and Cyrillic; the Noto fonts of the
`manimgx-fonts` and `manimgx-fonts-cjk` wheels (SIL Open Font License) set what DejaVu lacks:
Arabic, Hebrew, the scripts of India, Sri Lanka, South-East Asia and Ethiopia, Chinese,
Japanese, Korean, emoji and symbols. Neither
libass (with fonts given as files, it has no fallback) nor Pillow falls back on its own, so
text is cut into runs, each set in the first font of the stack that has its characters. Any
layer may use them: the render's captions, the offline title cards.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

import manimgx_fonts
import manimgx_fonts_cjk
from fontTools.ttLib import TTFont
from PIL import ImageDraw, ImageFont, features

from video_pipeline.fonts.bidi import levels, visual_order

FONTS_DIR = Path(__file__).parent
REGULAR_FONT = FONTS_DIR / "DejaVuSans.ttf"
BOLD_FONT = FONTS_DIR / "DejaVuSans-Bold.ttf"
_NOTO = Path(manimgx_fonts.__file__).parent
_NOTO_CJK = Path(manimgx_fonts_cjk.__file__).parent / "NotoSansCJK-VF.otf.ttc"
# Faces of the CJK collection: JP, KR, SC, TC, HK. Simplified Chinese's has every character
# the others have, with Chinese glyph shapes.
_CJK_SC = 2
# Characters that never start a run of their own: they go with the text around them.
_JOINING_CATEGORIES = {"Mn", "Me", "Mc", "Cf", "Zs", "Cc"}
# DejaVu has some Arabic letters and some emoji; these ranges are set in the Noto fallbacks
# throughout instead, so a word or an emoji sequence never mixes two designs.
_FALLBACK_FIRST = (
    (0x0600, 0x08FF),  # Arabic, Arabic Supplement, Extended-A
    (0xFB50, 0xFEFF),  # Arabic presentation forms
    (0x2600, 0x27BF),  # miscellaneous symbols, dingbats
    (0x1F000, 0x1FAFF),  # emoji
)


@dataclass(frozen=True, eq=False)
class Face:
    """One face of a font file; faces are constants of this module, equal only to themselves."""

    path: Path
    index: int = 0
    """The face's number in a font collection (.ttc)."""

    @property
    def family(self) -> str:
        """The family name libass and Pillow know the face by."""
        return _family(self.path, self.index)

    @cached_property
    def _coverage(self) -> frozenset[int]:
        with TTFont(self.path, fontNumber=self.index, lazy=True) as font:
            codes = frozenset(font.getBestCmap())
        if self.path in (REGULAR_FONT, BOLD_FONT):
            codes = frozenset(code for code in codes if not _fallback_first(code))
        return codes

    def covers(self, char: str) -> bool:
        return ord(char) in self._coverage


PRIMARY = Face(BOLD_FONT)
_SCRIPTS = (
    *("Arabic", "Hebrew", "Devanagari", "Bengali", "Gurmukhi", "Gujarati", "Oriya", "Tamil"),
    *("Telugu", "Kannada", "Malayalam", "Sinhala", "Thai", "Lao", "Khmer", "Myanmar"),
    *("Ethiopic", "Armenian", "Georgian"),
)
FALLBACKS = (
    *(Face(_NOTO / f"NotoSans{script}[wght].ttf") for script in _SCRIPTS),
    Face(_NOTO_CJK, _CJK_SC),
    Face(_NOTO / "NotoEmoji[wght].ttf"),
    Face(_NOTO / "NotoSansSymbols[wght].ttf"),
    Face(_NOTO / "NotoSans[wght].ttf"),
)
STACK = (PRIMARY, *FALLBACKS)
"""Bold DejaVu first (captions and titles are bold), then the fallbacks in order."""


def font_runs(text: str, stack: tuple[Face, ...] = STACK) -> list[tuple[str, Face]]:
    """`text` cut into (piece, face) runs; each piece is set in one face that has it.

    Spaces, marks and joiners stay in the run they are in, so that shaping (Arabic, Devanagari,
    Thai, emoji sequences) sees whole words. A character no face has stays in the current run;
    `missing` finds those.
    """
    runs: list[tuple[str, Face]] = []
    for char in text:
        current = runs[-1][1] if runs else stack[0]
        joining = unicodedata.category(char) in _JOINING_CATEGORIES
        face = current if joining or current.covers(char) else _first_covering(char, stack)
        if runs and face == current:
            runs[-1] = (runs[-1][0] + char, face)
        else:
            runs.append((char, face or current))
    return runs


def missing(text: str, stack: tuple[Face, ...] = STACK) -> set[str]:
    """The visible characters of `text` that no face of the stack has."""
    return {
        char
        for char in text
        if unicodedata.category(char) not in _JOINING_CATEGORIES
        and _first_covering(char, stack) is None
    }


def describe_missing(text: str, stack: tuple[Face, ...] = STACK) -> str | None:
    """The characters of `text` no face has, named for a person ("'ⵜ' (U+2D5C TIFINAGH
    LETTER YAT)"), at most five; None when every one can be set."""
    chars = sorted(missing(text, stack))
    if not chars:
        return None
    named = [f"{c!r} (U+{ord(c):04X} {unicodedata.name(c, 'unnamed')})" for c in chars[:5]]
    more = f" and {len(chars) - 5} more" if len(chars) > 5 else ""
    return ", ".join(named) + more


def faces_for(texts: list[str], stack: tuple[Face, ...] = STACK) -> list[Face]:
    """The faces needed to set `texts`, the first of the stack always included."""
    used = {face for text in texts for _, face in font_runs(text, stack)}
    return [face for face in stack if face == stack[0] or face in used]


def _fallback_first(code: int) -> bool:
    return any(low <= code <= high for low, high in _FALLBACK_FIRST)


def _first_covering(char: str, stack: tuple[Face, ...]) -> Face | None:
    return next((face for face in stack if face.covers(char)), None)


@cache
def _family(path: Path, index: int) -> str:
    with TTFont(path, fontNumber=index, lazy=True) as font:
        return str(font["name"].getDebugName(1))


def wrap(words: list[str], fits: Callable[[str], bool]) -> list[str]:
    """Greedy wrap at spaces; a token wider than a line is cut between characters."""
    lines: list[str] = []
    for word in words:
        if lines and fits(f"{lines[-1]} {word}"):
            lines[-1] = f"{lines[-1]} {word}"
        elif fits(word):
            lines.append(word)
        else:
            lines += _break_token(word, fits)
    return lines


def _break_token(word: str, fits: Callable[[str], bool]) -> list[str]:
    """Cut a token (a URL, a hashtag, a run of CJK) into pieces that fit, never before a
    mark or a joiner, so that no letter loses its accent or an emoji sequence its parts,
    and never before closing punctuation ("。", "」", ")"): the character before it goes
    down with it, as Chinese and Japanese typesetting does."""
    pieces = [""]
    for char in word:
        joins = unicodedata.category(char) in ("Mn", "Mc", "Me", "Cf")
        if pieces[-1] and not joins and not fits(pieces[-1] + char):
            closing = char in _NO_LINE_START and len(pieces[-1]) > 1
            carried = pieces[-1][-1] if closing else ""
            pieces[-1] = pieces[-1][: len(pieces[-1]) - len(carried)]
            pieces.append(carried)
        pieces[-1] += char
    return pieces


_NO_LINE_START = frozenset("。、，．！？：；）」』】〕〉》”’・ー々ゃゅょっ)]}")
"""What a line of Chinese or Japanese must not begin with (and closing brackets)."""


RAQM = features.check_feature("raqm")
"""Whether Pillow shapes text with libraqm, which it loads with the system's FriBiDi: only
then can a run be drawn right to left (and Arabic or Devanagari be shaped at all)."""

REGULAR_STACK = (Face(REGULAR_FONT), *FALLBACKS)
_BOLD_WEIGHT, _REGULAR_WEIGHT = 700, 400


@cache
def pillow_font(face: Face, size: int) -> ImageFont.FreeTypeFont:
    """`face` at `size` pixels; a variable font set to the weight its stack stands for."""
    font = ImageFont.truetype(str(face.path), size, index=face.index)
    axes = font.get_variation_axes() if _is_variable(face) else []
    if axes:
        weight = _BOLD_WEIGHT if face in STACK else _REGULAR_WEIGHT
        font.set_variation_by_axes(
            [_clamped(weight, a) if a["name"] == b"Weight" else a.get("default") or 0 for a in axes]
        )
    return font


@lru_cache(maxsize=8192)
def text_width(text: str, size: int, stack: tuple[Face, ...] = STACK) -> float:
    """Width in pixels of `text` set in `stack` at `size`."""
    return sum(pillow_font(face, size).getlength(run) for run, face in font_runs(text, stack))


def draw_text(
    draw: ImageDraw.ImageDraw,
    left: float,
    baseline: float,
    text: str,
    size: int,
    stack: tuple[Face, ...] = STACK,
    **style: Any,
) -> None:
    """Draw `text` run by run from `left` along `baseline`, the runs where the bidirectional
    algorithm places them (a number or an emoji in an Arabic line, an Arabic word in an
    English one); `style` goes to `draw.text`."""
    pieces = _level_runs(text, stack)
    for run, face, level in visual_order(pieces, [level for _, _, level in pieces]):
        font = pillow_font(face, size)
        direction = ("rtl" if level % 2 else "ltr") if RAQM else None
        draw.text((left, baseline), run, font=font, anchor="ls", direction=direction, **style)
        left += font.getlength(run, direction=direction)


def _level_runs(text: str, stack: tuple[Face, ...]) -> list[tuple[str, Face, int]]:
    """The font runs of `text` cut again where the embedding level changes."""
    each = iter(levels(text))
    pieces: list[tuple[str, Face, int]] = []
    for run, face in font_runs(text, stack):
        for char in run:
            level = next(each)
            if pieces and pieces[-1][1] is face and pieces[-1][2] == level:
                pieces[-1] = (pieces[-1][0] + char, face, level)
            else:
                pieces.append((char, face, level))
    return pieces


def _clamped(value: float, axis: Any) -> float:
    return max(axis.get("minimum") or 0, min(axis.get("maximum") or value, value))


@cache
def _is_variable(face: Face) -> bool:
    with TTFont(face.path, fontNumber=face.index, lazy=True) as font:
        return "fvar" in font
