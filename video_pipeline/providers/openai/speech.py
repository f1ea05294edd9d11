"""Narration with OpenAI text-to-speech; word timings come from aligning the known text."""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np
import numpy.typing as npt
from openai import omit

from video_pipeline.providers.alignment import align_words
from video_pipeline.providers.base import Narration, ProviderError, WordTiming
from video_pipeline.providers.languages import OPENAI_VOICES, language_name
from video_pipeline.providers.openai.batching import split_text
from video_pipeline.providers.openai.calls import Call, Metered, OpenAIProvider
from video_pipeline.providers.openai.wav import decode_wav, write_wav

VOICES = frozenset(OPENAI_VOICES)
MAX_INPUT_CHARS = 4096


class OpenAISpeech(OpenAIProvider):
    def synthesize(
        self, text: str, voice: str, out_path: Path, language: str | None = None
    ) -> Narration:
        """`voice` is used when it names an OpenAI voice; other names (such as a project's
        espeak voice "en-us") fall back to the configured OpenAI voice. `language` goes to
        the model as an instruction. Long texts are spoken in pieces the endpoint accepts
        and joined."""
        pieces = split_text(text, MAX_INPUT_CHARS)
        if not pieces:
            raise ProviderError("there is no narration text to speak; check the script.")
        chosen = voice if voice in VOICES else self._connection.models.tts_voice
        audio: list[npt.NDArray[np.int16]] = []
        words: list[WordTiming] = []
        offset, rate = 0.0, 0
        for piece in pieces:
            samples, piece_rate = self._speak(piece, chosen, language)
            if rate and piece_rate != rate:
                raise ProviderError("the speech endpoint changed sample rate mid-narration.")
            rate = piece_rate
            words += [
                WordTiming(word=t.word, start=t.start + offset, end=t.end + offset)
                for t in align_words(piece.split(), samples, rate)
            ]
            audio.append(samples)
            offset += len(samples) / rate
        write_wav(out_path, np.concatenate(audio), rate)
        return Narration(audio_path=out_path, duration_seconds=offset, words=words)

    def _speak(
        self, text: str, voice: str, language: str | None
    ) -> tuple[npt.NDArray[np.int16], int]:
        model = self._connection.models.tts
        # tts-1 models take no instructions; the newer speech models take the language so.
        instructions = (
            f"Speak in {language_name(language)}."
            if language and not model.startswith("tts-1")
            else None
        )
        request = {"model": model, "voice": voice, "input": text, "response_format": "wav"}
        if instructions:
            request["instructions"] = instructions
        estimated = self._calls.connection.prices.cost(model, len(text), 0, "characters")

        def send() -> Metered:
            response = self._calls.client.audio.speech.create(
                model=model,
                voice=voice,
                input=text,
                response_format="wav",
                instructions=instructions or omit,
            )
            return Metered(base64.b64encode(response.content).decode(), len(text), 0, "characters")

        def parse(value: str) -> tuple[npt.NDArray[np.int16], int]:
            return decode_wav(base64.b64decode(value))

        return self._calls.run(Call("speech", model, request, estimated), send, parse)
