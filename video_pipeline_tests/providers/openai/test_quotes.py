from __future__ import annotations

from video_pipeline.providers.openai.quotes import locate_quote

TEXT = "Octopuses have three hearts.\nTheir  blood is “blue” — copper-based, not iron-based."


def span(quote: str) -> str | None:
    found = locate_quote(TEXT, quote)
    return TEXT[found[0] : found[1]] if found else None


def test_exact_quote() -> None:
    assert span("Octopuses have three hearts.") == "Octopuses have three hearts."


def test_quote_with_changed_case_spacing_and_typography() -> None:
    assert span('their blood is "blue" - copper-based') == "Their  blood is “blue” — copper-based"


def test_quote_not_in_text() -> None:
    assert span("Octopuses have four hearts.") is None
    assert span(" ... ") is None
