"""The one exception the render engine raises."""


class RenderError(RuntimeError):
    """Rendering failed; the message says which step and, for ffmpeg, ends with its stderr."""
