"""Scene images from OpenAI image generation, fitted to the video frame."""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from video_pipeline.models import CameraMotion, Scene
from video_pipeline.providers.base import ProviderError
from video_pipeline.providers.openai.calls import Call, Metered, OpenAIProvider

SIZES = {
    "gpt-image-1": ("1024x1024", "1536x1024", "1024x1536"),
    "dall-e-3": ("1024x1024", "1792x1024", "1024x1792"),
    "dall-e-2": ("1024x1024",),
}


def closest_size(model: str, width: int, height: int) -> str:
    """The size the model offers whose shape is closest to the frame's."""

    def mismatch(size: str) -> float:
        w, h = (int(n) for n in size.split("x"))
        return abs(math.log(w / h) - math.log(width / height))

    return min(SIZES.get(model, SIZES["gpt-image-1"]), key=mismatch)


def scene_prompt(scene: Scene, title: str) -> str:
    return (
        f"{scene.visual_description}\n"
        f"A still for the video {title!r}: cinematic, clear subject, "
        "no text, letters, captions or watermarks."
    )


class OpenAIImages(OpenAIProvider):
    def scene_image(
        self,
        scene: Scene,
        title: str,
        width: int,
        height: int,
        out_path: Path,
        motion: CameraMotion = "none",
    ) -> Path:
        models = self._connection.models
        model, quality = models.images, models.image_quality
        request: dict[str, Any] = {
            "model": model,
            "prompt": scene_prompt(scene, title),
            "size": closest_size(model, width, height),
            "n": 1,
        }
        if quality is not None:
            request["quality"] = quality
        if model.startswith("dall-e"):  # gpt-image models always answer in base64
            request["response_format"] = "b64_json"
        estimated = self._calls.connection.prices.cost(model, 0, 1, "images")

        def send() -> Metered:
            response = self._calls.client.images.generate(**request)
            encoded = response.data[0].b64_json if response.data else None
            if not encoded:
                raise ProviderError(f"{model} returned no image data; run the step again.")
            return Metered(encoded, 0, 1, "images")

        def parse(value: str) -> Image.Image:
            try:
                return Image.open(io.BytesIO(base64.b64decode(value))).convert("RGB")
            except (UnidentifiedImageError, ValueError) as error:
                raise ProviderError(
                    f"{model} returned data that is not an image; run the step again."
                ) from error

        image = self._calls.run(Call("images", model, request, estimated), send, parse)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS).save(out_path, "PNG")
        return out_path
