"""Every script renders with real glyphs: never the missing-glyph box."""

from __future__ import annotations

import math
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from babel import Locale
from PIL import Image, ImageDraw, ImageFont

from video_pipeline import fonts
from video_pipeline.fonts import (
    STACK,
    describe_missing,
    draw_text,
    font_runs,
    missing,
    text_width,
    wrap,
)
from video_pipeline.fonts.bidi import levels, visual_order
from video_pipeline.layout import FPS, caption_area, frame_size
from video_pipeline.models import ProjectSettings, SubtitleStyle
from video_pipeline.providers.languages import supported_languages
from video_pipeline.providers.offline.images import TitleCardImages
from video_pipeline.providers.offline.speech import EspeakSpeech
from video_pipeline.render import EncoderSettings, RenderOptions, render_video, verify_render
from video_pipeline.render.ass import _ass_text, ass_line, write_ass
from video_pipeline.render.binaries import ffmpeg_path
from video_pipeline.render.captions import CaptionEvent
from video_pipeline.render.graph import SUBTITLES
from video_pipeline.render.stills import draw_captions
from video_pipeline.render.tracks import caption_cuts
from video_pipeline.text.words import words
from video_pipeline_tests.render.conftest import make_script

SCRIPTS = {
    "Latin": "Façade naïve café Œuvre",
    "Cyrillic": "Привет мир Ёлка",
    "Greek": "Γειά σου",
    "Chinese": "你好世界",
    "Japanese": "こんにちは",
    "Korean": "안녕하세요",
    "Arabic": "مرحبا بالعالم",
    "Hebrew": "שלום עולם",
    "Devanagari": "नमस्ते दुनिया",
    "Thai": "สวัสดี",
    "Emoji": "🎉🚀😀👍❤",
}
MORE_SCRIPTS = {
    "Bengali": "বাংলা ভাষা",
    "Gurmukhi": "ਪੰਜਾਬੀ ਭਾਸ਼ਾ",
    "Gujarati": "ગુજરાતી ભાષા",
    "Oriya": "ଓଡ଼ିଆ ଭାଷା",
    "Tamil": "தமிழ் மொழி",
    "Telugu": "తెలుగు భాష",
    "Kannada": "ಕನ್ನಡ ಭಾಷೆ",
    "Malayalam": "മലയാളം ഭാഷ",
    "Sinhala": "සිංහල භාෂාව",
    "Lao": "ພາສາລາວ",
    "Khmer": "ភាសាខ្មែរ",
    "Myanmar": "မြန်မာဘာသာ",
    "Ethiopic": "አማርኛ ቋንቋ",
    "Armenian": "Հայերեն լեզու",
    "Georgian": "ქართული ენა",
}
"""Scripts drawn but not spoken in the video below (an English voice spells them out)."""
SPOKEN_SECONDS = 42
ULTRAFAST = RenderOptions(encoder=EncoderSettings(preset="ultrafast"))
UNASSIGNED = "\u0378"
"""No font has it: what each face draws for it is its missing-glyph box."""


def test_the_font_stack_has_every_character_of_every_script() -> None:
    for name, text in {**SCRIPTS, **MORE_SCRIPTS}.items():
        assert missing(text) == set(), name
        for run, face in font_runs(text):
            visible = [c for c in run if not unicodedata.category(c).startswith(("Z", "M"))]
            assert all(face.covers(char) for char in visible), (name, run, face.family)
    assert missing(UNASSIGNED) == {UNASSIGNED}


def test_every_language_a_project_may_be_in_is_written_in_fonts_of_the_stack() -> None:
    """Month and day names, in each supported language's own script (from CLDR, by Babel)."""
    unshown = {}
    for code in supported_languages():
        names = Locale.parse(code)
        text = " ".join(
            [*names.months["format"]["wide"].values(), *names.days["format"]["wide"].values()]
        )
        assert len(words(text)) >= 19, code
        if missing(text):
            unshown[code] = describe_missing(text)
    assert unshown == {}


def test_libass_draws_no_box_for_any_character(tmp_path: Path) -> None:
    """Each character drawn alone by the render's caption path, compared with the box each
    face of the stack draws for a character it lacks."""
    texts = [*SCRIPTS.values(), *MORE_SCRIPTS.values()]
    chars = sorted({c for text in texts for c in text if not c.isspace()})
    chars = [c for c in chars if not unicodedata.category(c).startswith("M")]
    boxes = [f"{{\\fn{face.family}}}{UNASSIGNED}" for face in STACK]
    font = SubtitleStyle().font
    images = _draw_each(tmp_path, [*(ass_line(c, font) for c in chars), *boxes], chars)
    # A face whose box is blank cannot draw a box; DejaVu's is a real one.
    box_images = [image for image in images[len(chars) :] if image.any()]
    assert images[len(chars)].any()
    for char, image in zip(chars, images, strict=False):
        assert image.any(), f"{char!r} drew nothing"
        for box in box_images:
            assert not np.array_equal(_cropped(image), _cropped(box)), f"{char!r} drew a box"


def test_one_video_with_every_script_renders(
    speech: EspeakSpeech, images: TitleCardImages, tmp_path: Path
) -> None:
    script = make_script(
        *(f"{text}." for text in SCRIPTS.values()), on_screen=" ".join(SCRIPTS.values())
    )
    # The English voice spells the other scripts out letter by letter, slowly.
    settings = ProjectSettings(aspect="16:9", resolution="720p", duration_seconds=SPOKEN_SECONDS)

    rendered = render_video(script, settings, speech, images, tmp_path, options=ULTRAFAST)

    assert len(rendered.script.scenes) == len(script.scenes)

    assert verify_render(rendered, script, settings) == []
    boxed = script.model_copy(update={"title": f"Title {UNASSIGNED}"})
    assert verify_render(rendered, boxed, settings) == [
        f"no font here has {UNASSIGNED!r} (U+0378 unnamed): the video would show empty boxes for "
        "them; take them out of the title or the material"
    ]
    shown = " ".join(event.text for event in rendered.captions)
    assert missing(shown) == set()
    for text in SCRIPTS.values():
        for word in text.split():
            assert word in shown.replace("\n", "")


def _draw_each(workdir: Path, dialogues: list[str], texts: list[str]) -> list[np.ndarray]:
    """The caption image libass draws for each of `dialogues` (ASS Dialogue texts), given
    the fonts `texts` need."""
    size = frame_size("16:9", "720p")
    area = caption_area(size, SubtitleStyle())
    events = [
        CaptionEvent(start=i * 3 / FPS, end=(i + 1) * 3 / FPS, text=f"x{i}", word_count=1)
        for i in range(len(dialogues))
    ]
    write_ass(events, workdir / SUBTITLES, size, area, SubtitleStyle())
    ass = (workdir / SUBTITLES).read_text(encoding="utf-8")
    for i, dialogue in enumerate(dialogues):
        ass = ass.replace(f",x{i}\n", f",{dialogue}\n")
    (workdir / SUBTITLES).write_text(ass, encoding="utf-8")
    cuts = caption_cuts([(e.start, e.end) for e in events], len(dialogues) * 3, FPS)
    layer = draw_captions(texts, cuts, workdir, size, area, ffmpeg_path())
    return [np.asarray(Image.open(workdir / s.image))[..., 3] for s in layer.segments]


def _cropped(alpha: np.ndarray) -> np.ndarray:
    rows, columns = np.nonzero(alpha)
    return alpha[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]


def test_a_highlighted_word_leaves_right_to_left_lines_in_their_order(tmp_path: Path) -> None:
    """Karaoke colours one word at a time: the line must be laid out as it is without the
    colour (libass laid out the pieces between colour changes left to right, so Arabic and
    Hebrew words swapped places as the highlight moved)."""
    font = SubtitleStyle().font
    for line in ("نحل العسل يصنع العسل", "הדבורים עושות דבש 🐝 2024", "Bees make honey"):
        words = line.split()
        plain = _ass_text([line], font)
        coloured = [
            _ass_text([line], font, words, (i, "&H0000FFFF", "&H00FFFFFF"))
            for i in range(len(words))
        ]
        workdir = tmp_path / str(len(line))
        workdir.mkdir()
        images = _draw_each(workdir, [plain, *coloured], [line])
        ink = images[0].astype(float)
        for word, image in zip(words, images[1:], strict=True):
            moved = np.abs(image.astype(float) - ink).sum() / ink.sum()
            assert moved < 0.03, (line, word, moved)


@pytest.mark.parametrize(
    ("line", "leftmost"),
    [
        ("نحل العسل 🐝", "🐝"),  # the emoji that ends an Arabic line is at its left end
        ("נחל בטבע 🐝", "🐝"),  # and of a Hebrew one
        ("Peace is سلام", "Peace is "),  # an Arabic word ends an English line on the right
    ],
)
def test_the_runs_of_a_line_of_two_directions_are_drawn_where_they_belong(
    line: str, leftmost: str
) -> None:
    """Title cards draw a line font run by font run: each must be where the bidirectional
    algorithm puts it, not in the order of the text."""
    size, left, baseline = 60, 10, 90

    def drawn(text: str) -> np.ndarray:
        image = Image.new("L", (1000, 120))
        draw_text(ImageDraw.Draw(image), left, baseline, text, size, fill=255)
        return np.asarray(image)

    end = left + math.floor(text_width(leftmost, size))
    whole, alone = drawn(line), drawn(leftmost)
    assert alone[:, :end].any()
    assert np.array_equal(whole[:, :end], alone[:, :end])


def test_numbers_in_a_right_to_left_line_read_left_to_right_after_the_words_before_them() -> None:
    line = "نحل العسل 2024"
    assert levels(line) == [1] * 10 + [2] * 4
    assert visual_order(["نحل العسل ", "2024"], [1, 2]) == ["2024", "نحل العسل "]
    assert visual_order(["a ", "b ", "c"], [0, 1, 0]) == ["a ", "b ", "c"]
    assert visual_order(["x", "12", "y"], [1, 2, 1]) == ["y", "12", "x"]


@pytest.mark.parametrize("width", range(3, 12))
def test_no_line_of_chinese_or_japanese_begins_with_closing_punctuation(width: int) -> None:
    text = (
        "働き蜂は花の蜜を集めます。女王蜂は一日に二千個の卵を産みます。「巣」は蝋でできています。"
    )
    lines = wrap([text], lambda line: len(line) <= width)
    assert "".join(lines) == text
    assert all(len(line) <= width for line in lines), lines
    assert not [line for line in lines if line[0] in "。、」）"], lines


BASIC = ImageFont.Layout.BASIC


def test_lines_are_drawn_without_libraqm_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pillow uses libraqm only where the system has FriBiDi (a bare container may not):
    without it a right-to-left run cannot be given a direction, and must still be drawn."""

    def basic(face: fonts.Face, size: int) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(face.path), size, index=face.index, layout_engine=BASIC)

    monkeypatch.setattr(fonts, "RAQM", False)
    monkeypatch.setattr(fonts, "pillow_font", basic)
    image = Image.new("L", (600, 100))
    draw_text(ImageDraw.Draw(image), 10, 70, "نحل العسل 🐝 2024", 40, fill=255)
    assert np.asarray(image).any()
