"""A small inline JPEG preview for the Dagster UI: a data: URI never expires, unlike a
presigned link (the S3 object stays the full-size thumbnail)."""

from __future__ import annotations

import base64
import io

from PIL import Image

PREVIEW_WIDTH = 240


def preview_markdown(jpeg: bytes, width: int = PREVIEW_WIDTH) -> str:
    """Markdown showing `jpeg` scaled down to `width` pixels, embedded in the text."""
    with Image.open(io.BytesIO(jpeg)) as original:
        small = original.convert("RGB")
    small.thumbnail((width, width * 4))
    out = io.BytesIO()
    small.save(out, "JPEG", quality=70, optimize=True)
    return f"![thumbnail](data:image/jpeg;base64,{base64.b64encode(out.getvalue()).decode()})"
