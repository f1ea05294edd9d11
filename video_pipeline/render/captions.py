"""Caption events from word timings, and the ASS, SRT and WebVTT files that carry them.

User text reaches ffmpeg only inside the ASS file, escaped so libass shows it literally.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from video_pipeline.fonts import PRIMARY, font_runs, text_width, wrap
from video_pipeline.models import SubtitleStyle
from video_pipeline.providers.base import WordTiming
from video_pipeline.render.layout import CaptionArea, FrameSize

MAX_LINES = 2
_MIN_SCALE = 0.25
_SENTENCE_END = (".", "!", "?", "…", "。", "؟")
# Two events never start closer than this; words spoken "at once" share an event.
_MIN_EVENT_SECONDS = 0.1
# Invisible and non-breaking: separates a literal backslash from a letter libass would read
# as an escape (\N, \n, \h).
_WORD_JOINER = "\u2060"


class CaptionEvent(BaseModel):
    start: float
    end: float
    text: str
    """Lines joined with a newline."""
    word_count: int
    scale: float = 1.0
    """Text size relative to the style's: below 1 only for a token too long for two lines."""


class SceneWords(BaseModel):
    """One scene's words on the video's timeline and the time span the scene occupies."""

    words: list[WordTiming]
    start: float
    end: float


@dataclass(frozen=True)
class LineFit:
    """Whether a caption line fits between the margins, measured with the font stack.

    Measured at the ASS font size as if it were the em size, which is at least as wide as
    what libass draws (it scales each font so its ascent and descent span the size).
    """

    width: float
    font_size: int
    max_chars: int

    @classmethod
    def of(cls, area: CaptionArea) -> LineFit:
        return cls(area.line_width, area.font_size, area.chars_per_line)

    def scaled(self, scale: float) -> LineFit:
        return LineFit(self.width / scale, self.font_size, round(self.max_chars / scale))

    def __call__(self, line: str) -> bool:
        return len(line) <= self.max_chars and text_width(line, self.font_size) <= self.width


def group_captions(scenes: Sequence[SceneWords], fit: LineFit) -> list[CaptionEvent]:
    """Fill up to two lines per event; a scene or a sentence always ends an event.

    Each event starts when its first word is spoken and lasts until the next event starts,
    or until its scene ends.
    """
    events: list[CaptionEvent] = []
    for scene in scenes:
        groups = _group_scene_words(scene.words, fit)
        starts = [group[0].start for group in groups]
        ends = [*starts[1:], scene.end]
        for group, start, end in zip(groups, starts, ends, strict=True):
            lines, scale = _shrink_to_fit([w.word for w in group], fit)
            events.append(
                CaptionEvent(
                    start=start,
                    end=max(end, start),
                    text="\n".join(lines),
                    word_count=len(group),
                    scale=scale,
                )
            )
    return events


def _group_scene_words(words: list[WordTiming], fit: LineFit) -> list[list[WordTiming]]:
    groups: list[list[WordTiming]] = []
    current: list[WordTiming] = []
    for word in words:
        if current and word.start - current[0].start >= _MIN_EVENT_SECONDS:
            too_long = len(wrap([w.word for w in [*current, word]], fit)) > MAX_LINES
            if too_long or current[-1].word.endswith(_SENTENCE_END):
                groups.append(current)
                current = []
        current.append(word)
    if current:
        groups.append(current)
    return groups


def _shrink_to_fit(words: list[str], fit: LineFit) -> tuple[list[str], float]:
    """Lines of `words` and the text scale at which they take no more than two lines' height.

    Only a token too long for two lines on its own (a long URL) needs a scale below 1.
    """
    scale = 1.0
    lines = wrap(words, fit)
    while len(lines) * scale > MAX_LINES and scale > _MIN_SCALE:
        scale = max(_MIN_SCALE, scale * 0.8)
        lines = wrap(words, fit.scaled(scale))
    return lines, round(scale, 3)


# --------------------------------------------------------------------------- ASS


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
) -> Path:
    """Captions for a canvas of the caption band (`area.band_height` high), not the frame."""
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
        f"Style: Default,{font},{area.font_size},{_ass_colour(style.primary_colour)},"
        f"{_ass_colour(style.primary_colour)},{_ass_colour(style.outline_colour)},&H80000000,"
        f"-1,0,0,0,100,100,0,0,1,{area.outline:.1f},0,2,"
        f"{area.left_margin},{area.right_margin},{area.bottom_margin},1",
        "",
        "[Events]",
        "Format: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text",
    ]
    dialogues = [
        f"Dialogue: 0,{_ass_time(e.start)},{_ass_time(e.end)},Default,,0,0,0,,"
        + _scale_override(e.scale)
        + "\\N".join(ass_line(line, font) for line in e.text.split("\n"))
        for e in events
    ]
    path.write_text("\n".join([*header, *dialogues, ""]), encoding="utf-8")
    return path


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


# --------------------------------------------------------------------------- SRT / WebVTT


def write_srt(events: Sequence[CaptionEvent], path: Path) -> Path:
    cues = [
        f"{number}\n{_cue_time(e.start, ',')} --> {_cue_time(e.end, ',')}\n{e.text}\n"
        for number, e in enumerate(events, start=1)
    ]
    path.write_text("\n".join(cues), encoding="utf-8")
    return path


def write_vtt(events: Sequence[CaptionEvent], path: Path) -> Path:
    """WebVTT cue text is HTML-like: `&`, `<` and `>` must be escaped to stay literal."""
    cues = [
        f"{_cue_time(e.start, '.')} --> {_cue_time(e.end, '.')}\n"
        f"{html.escape(e.text, quote=False)}\n"
        for e in events
    ]
    path.write_text("\n".join(["WEBVTT\n", *cues]), encoding="utf-8")
    return path


def _cue_time(seconds: float, decimal_mark: str) -> str:
    millis = round(seconds * 1000)
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}{decimal_mark}{rest % 1000:03d}"
