"""The ASS file libass draws the captions from, in the subtitle style asked for.

User text reaches ffmpeg only inside this file, escaped so libass shows it literally; each run
of it is set in the first font of the stack that has its characters. Three styles:
`lines` shows each caption whole; `karaoke` shows it whole with the word being spoken in the
highlight colour; `pop` shows one word at a time, larger.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from video_pipeline.fonts import PRIMARY, font_runs
from video_pipeline.layout import CaptionArea, FrameSize
from video_pipeline.models import SubtitleStyle
from video_pipeline.render.captions import CaptionEvent

POP_SCALE = 1.25
"""A popped word is this much larger than the style's size."""
# Invisible and non-breaking: separates a literal backslash from a letter libass would read
# as an escape (\N, \n, \h).
_WORD_JOINER = "\u2060"


def escape_ass_text(text: str) -> str:
    """Make `text` render literally in an ASS Dialogue line (no overrides, no escapes)."""
    out: list[str] = []
    for index, char in enumerate(text):
        if char in "{}":
            out.append("\\" + char)
        elif char == "\\":
            following = text[index + 1 : index + 2]
            out.append("\\" + _WORD_JOINER if following and following in "Nnh" else "\\")
        elif char in "\r\n\t\v\f":
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def ass_line(text: str, style_font: str) -> str:
    """`text` escaped, each run in the first font of the stack that has its characters.

    Runs the primary font has are set in the style's font; `\\fn` overrides switch to a
    fallback and back.
    """
    pieces = []
    current = style_font
    for run, face in font_runs(text):
        family = style_font if face == PRIMARY else face.family
        if family != current:
            pieces.append(f"{{\\fn{family}}}")
            current = family
        pieces.append(escape_ass_text(run))
    return "".join(pieces)


def write_ass(
    events: Sequence[CaptionEvent],
    path: Path,
    size: FrameSize,
    area: CaptionArea,
    style: SubtitleStyle,
) -> list[tuple[float, float]]:
    """Captions for a canvas of the caption band (`area.band_height` high), not the frame.

    Returns the (start, end) of every Dialogue: in the karaoke and pop styles one per word.
    """
    font = style.font.replace(",", " ")
    header = [
        "[Script Info]",
        "ScriptType: v4.00+",
        f"PlayResX: {size.width}",
        f"PlayResY: {area.band_height}",
        "WrapStyle: 0",
        "ScaledBorderAndShadow: yes",
        "YCbCr Matrix: None",
        "",
        "[V4+ Styles]",
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, "
        "BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, "
        "BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding",
        # Encoding -1: libass finds each line's direction and lays out its whole text at
        # once; otherwise the pieces between overrides (a karaoke colour, a fallback font) go
        # left to right, and the words of an Arabic or Hebrew line swap places.
        f"Style: Default,{font},{area.font_size},{_ass_colour(style.primary_colour)},"
        f"{_ass_colour(style.primary_colour)},{_ass_colour(style.outline_colour)},&H80000000,"
        f"-1,0,0,0,100,100,0,0,1,{area.outline:.1f},0,2,"
        f"{area.left_margin},{area.right_margin},{area.bottom_margin},-1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    dialogues = [
        (start, end, text)
        for event in events
        for start, end, text in _dialogues(event, style, font)
        if end > start
    ]
    lines = [
        f"Dialogue: 0,{_ass_time(start)},{_ass_time(end)},Default,,0,0,0,,{text}"
        for start, end, text in dialogues
    ]
    path.write_text("\n".join([*header, *lines, ""]), encoding="utf-8")
    return [(start, end) for start, end, _ in dialogues]


def _dialogues(
    event: CaptionEvent, style: SubtitleStyle, font: str
) -> list[tuple[float, float, str]]:
    """The event as Dialogues: whole, or one per word with that word highlighted or alone."""
    scale = _scale_override(event.scale)
    if style.mode == "lines" or not event.words:
        return [(event.start, event.end, scale + _ass_text(event.text.split("\n"), font))]
    starts = [max(event.start, word.start) for word in event.words]
    ends = [*starts[1:], event.end]
    if style.mode == "pop":
        pop = _scale_override(event.scale * POP_SCALE)
        return [
            (start, end, pop + ass_line(word.word, font))
            for word, start, end in zip(event.words, starts, ends, strict=True)
        ]
    lines = event.text.split("\n")
    words = [word.word for word in event.words]
    colours = _ass_colour(style.highlight_colour), _ass_colour(style.primary_colour)
    return [
        (start, end, scale + _ass_text(lines, font, words, (index, *colours)))
        for index, (start, end) in enumerate(zip(starts, ends, strict=True))
    ]


def _ass_text(
    lines: list[str],
    font: str,
    words: Sequence[str] = (),
    highlight: tuple[int, str, str] | None = None,
) -> str:
    """The lines joined by `\\N`. `highlight` is (index, colour, colour after): that word of
    `words` (which a line break may cut into pieces) is drawn in the colour."""
    out, word, piece = [], 0, ""
    for line in lines:
        tokens = []
        for token in line.split(" "):
            text = ass_line(token, font)
            if highlight is not None and word == highlight[0]:
                text = f"{{\\1c{highlight[1]}&}}{text}{{\\1c{highlight[2]}&}}"
            tokens.append(text)
            piece += token
            if word < len(words) and piece == words[word]:
                word, piece = word + 1, ""
        out.append(" ".join(tokens))
    return "\\N".join(out)


def _scale_override(scale: float) -> str:
    if scale == 1:
        return ""
    percent = f"{scale * 100:.1f}"
    return f"{{\\fscx{percent}\\fscy{percent}}}"


def _ass_colour(hex_rgb: str) -> str:
    red, green, blue = hex_rgb[1:3], hex_rgb[3:5], hex_rgb[5:7]
    return f"&H00{blue}{green}{red}".upper()


def _ass_time(seconds: float) -> str:
    """Rounded down, with half a centisecond to spare.

    A caption that starts on a frame must already show on that frame, whatever rounding the
    frame's timestamp went through on its way to libass; frames are 33 ms apart, so this
    never shows a caption a frame early.
    """
    centis = max(0, math.floor(seconds * 100 - 0.5))
    hours, rest = divmod(centis, 360_000)
    minutes, rest = divmod(rest, 6_000)
    return f"{hours}:{minutes:02d}:{rest // 100:02d}.{rest % 100:02d}"
