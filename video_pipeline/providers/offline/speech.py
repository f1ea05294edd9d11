"""Offline narration with espeak-ng, loaded through ctypes from the `espeakng-loader` wheel.

espeak-ng synthesises into a callback that receives 16-bit samples together with WORD events
(the character span of the word and its time in the audio). Those events are mapped back to
the whitespace-separated words of the input, so captions show exactly the text that was given.
"""

from __future__ import annotations

import ctypes
import re
import threading
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import espeakng_loader

from video_pipeline.providers.base import Narration, ProviderError, WordTiming
from video_pipeline.providers.languages import voice_language
from video_pipeline.providers.offline.readings import spoken_form

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_CHARS_UTF8 = 1
_PARAMETER_RATE = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_WORD = 1
_POSITION_CHARACTER = 1
_EE_OK = 0

MIN_RATE_WPM = 80
MAX_RATE_WPM = 450


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", ctypes.c_char * 8),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event)
)


@dataclass
class _Capture:
    """What one synthesis produced: samples and (character index, milliseconds) of each word."""

    samples: array[int]
    word_events: list[tuple[int, int]]


class _Engine:
    """The process-wide espeak-ng instance. Its global state is not thread-safe: use `lock`."""

    lock = threading.Lock()
    _instance: _Engine | None = None

    def __init__(self) -> None:
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        self.lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        self.lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        data_dir = Path(espeakng_loader.get_data_path()).parent
        self.sample_rate: int = self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data_dir).encode(), _INITIALIZE_DONT_EXIT
        )
        if self.sample_rate <= 0:
            raise ProviderError(f"espeak-ng could not start with its data in {data_dir}")
        self.capture = _Capture(array("h"), [])
        # Kept on the instance: ctypes callbacks must outlive every call into the library.
        self._callback = _SynthCallback(self._on_synth)
        self.lib.espeak_SetSynthCallback(self._callback)

    @classmethod
    def get(cls) -> _Engine:
        """Call with `lock` held."""
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _on_synth(self, wav: Any, count: int, events: Any) -> int:
        if wav and count > 0:
            self.capture.samples.frombytes(ctypes.string_at(wav, count * 2))
        index = 0
        while events[index].type != _EVENT_LIST_TERMINATED:
            event = events[index]
            if event.type == _EVENT_WORD:
                # text_position counts characters from 1.
                self.capture.word_events.append((event.text_position - 1, event.audio_position))
            index += 1
        return 0

    def synthesize(self, text: str, voice: str, rate_wpm: int) -> _Capture:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != _EE_OK:
            names = self.voice_names()
            similar = [name for name in names if name.startswith(voice[:2].lower())]
            raise ProviderError(
                f"espeak-ng has no voice {voice!r}; use a language code such as: "
                + ", ".join(similar or names[:40])
            )
        self.lib.espeak_SetParameter(_PARAMETER_RATE, rate_wpm, 0)
        self.capture = _Capture(array("h"), [])
        encoded = text.encode("utf-8")
        status = self.lib.espeak_Synth(
            encoded, len(encoded) + 1, 0, _POSITION_CHARACTER, 0, _CHARS_UTF8, None, None
        )
        if status != _EE_OK:
            raise ProviderError(f"espeak-ng failed to synthesise (error {status})")
        return self.capture

    def voice_names(self) -> list[str]:
        """The language codes espeak-ng accepts as voice names, e.g. `en-us`."""
        voices = self.lib.espeak_ListVoices(None)
        names: list[str] = []
        index = 0
        while voices[index]:
            languages = voices[index].contents.languages
            # `languages` is a priority byte followed by a NUL-terminated language name.
            if languages:
                names.append(ctypes.string_at(languages + 1).decode("utf-8", "replace"))
            index += 1
        return sorted(set(names))


class EspeakSpeech:
    """A SpeechProvider that runs espeak-ng in-process; pace follows `rate_wpm`."""

    name = "espeak-ng"

    def __init__(self, rate_wpm: float = 165) -> None:
        self.rate_wpm = round(min(MAX_RATE_WPM, max(MIN_RATE_WPM, rate_wpm)))

    def voices(self) -> list[str]:
        with _Engine.lock:
            return _Engine.get().voice_names()

    def synthesize(
        self, text: str, voice: str, out_path: Path, language: str | None = None
    ) -> Narration:
        """Speak with the espeak-ng `voice`; a voice espeak does not have (an OpenAI voice
        name) gives way to `language`'s own voice."""
        if language and voice.lower() not in {v.lower() for v in self.voices()}:
            voice = language
        spoken, words = _spoken_text(text, voice_language(voice))
        if not words:
            raise ProviderError("there is no text to speak: the narration is empty")
        with _Engine.lock:
            engine = _Engine.get()
            capture = engine.synthesize(spoken, voice, self.rate_wpm)
            sample_rate = engine.sample_rate
        duration = len(capture.samples) / sample_rate
        _write_wav(out_path, capture.samples, sample_rate)
        return Narration(
            audio_path=out_path,
            duration_seconds=duration,
            words=_word_timings(words, capture.word_events, duration),
        )


def _spoken_text(text: str, language: str) -> tuple[str, list[tuple[int, int, str]]]:
    """The text espeak is given (each word in the form its voice can read, the spaces and
    line breaks between words as they are) and the span in it of each word of `text`, which
    keeps its written form for the captions."""
    parts: list[str] = []
    words: list[tuple[int, int, str]] = []
    length = cursor = 0
    for match in re.finditer(r"\S+", text):
        gap, form = text[cursor : match.start()], spoken_form(match.group(), language)
        start = length + len(gap)
        words.append((start, start + len(form), match.group()))
        parts += [gap, form]
        length, cursor = start + len(form), match.end()
    parts.append(text[cursor:])
    return "".join(parts), words


def _word_timings(
    words: list[tuple[int, int, str]], events: list[tuple[int, int]], duration: float
) -> list[WordTiming]:
    """Give every input word the time espeak started saying it.

    A word espeak said in several parts (`3.5%`) takes its first part's time; a word it did not
    say (a lone dash) takes the time of the next word that was said. Each word ends when the
    next one starts; the last ends with the audio.
    """
    starts: list[float | None] = [None] * len(words)
    for char_index, millis in events:
        word_index = _word_at(words, char_index)
        if word_index is not None and starts[word_index] is None:
            starts[word_index] = millis / 1000
    resolved: list[float] = []
    following = duration
    for start in reversed(starts):
        following = start if start is not None else following
        resolved.append(following)
    resolved.reverse()
    # espeak's times increase along the text; keep them so even if it ever reorders.
    for index in range(1, len(resolved)):
        resolved[index] = max(resolved[index], resolved[index - 1])
    ends = [*resolved[1:], max(duration, resolved[-1])]
    return [
        WordTiming(word=word, start=start, end=end)
        for (_, _, word), start, end in zip(words, resolved, ends, strict=True)
    ]


def _word_at(words: list[tuple[int, int, str]], char_index: int) -> int | None:
    """The word containing `char_index`, or the first word after it (for events on spaces)."""
    for index, (_, end, _) in enumerate(words):
        if char_index < end:
            return index
    return None


def _write_wav(path: Path, samples: array[int], sample_rate: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(samples.tobytes())
