"""Turning the bytes of a document (txt, md, pdf, csv, html) into plain text.

Errors are raised as `PipelineInputError` without naming the source; the caller adds that.
The parsing libraries are imported on first use: the format tables are needed wherever a
project is checked, and the libraries take seconds to import.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass
from typing import Literal

from video_pipeline.errors import PipelineInputError

Format = Literal["text", "markdown", "pdf", "csv", "html"]

FORMATS_BY_SUFFIX: dict[str, Format] = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".pdf": "pdf",
    ".csv": "csv",
    ".html": "html",
    ".htm": "html",
}
FORMATS_BY_CONTENT_TYPE: dict[str, Format] = {
    "text/plain": "text",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "application/pdf": "pdf",
    "text/csv": "csv",
    "text/html": "html",
    "application/xhtml+xml": "html",
}

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


@dataclass(frozen=True)
class Document:
    text: str
    title: str | None


def decode(data: bytes, declared: str | None = None, *, html: bool = False) -> str:
    """Decode text bytes: BOM, then the declared charset, an HTML meta charset, UTF-8, and
    finally charset-normalizer's detection. Refuses binary data and undecidable encodings."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    if b"\x00" in data:
        raise PipelineInputError("the content is binary, not text")
    candidates: list[str | None] = [declared]
    if html and (meta := _META_CHARSET.search(data[:4096])):
        candidates.append(meta.group(1).decode("ascii"))
    candidates.append("utf-8")
    for name in candidates:
        if name and _known_codec(name):
            try:
                return data.decode(name)
            except UnicodeDecodeError:
                continue
    return _detected(data)


def _detected(data: bytes) -> str:
    """charset-normalizer's best guess; among equally good guesses, windows-1252 (the usual
    legacy Western encoding, and what browsers read "latin-1" as) wins."""
    import charset_normalizer

    matches = list(charset_normalizer.from_bytes(data))
    if not matches:
        raise PipelineInputError(
            "the text encoding could not be recognised; save the file as UTF-8 and try again"
        )
    best = matches[0]
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    western = [m for m in tied if "cp1252" in m.could_be_from_charset]
    return str(western[0] if western else best)


def _known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def convert(data: bytes, fmt: Format, charset: str | None = None) -> Document:
    """Extract the readable text (and a title when the format has one)."""
    if fmt == "pdf":
        return _pdf(data)
    text = decode(data, charset, html=fmt == "html")
    if fmt == "markdown":
        return _markdown(text)
    if fmt == "html":
        return _html(text)
    if fmt == "csv":
        return Document(_csv(text), None)
    return Document(text, None)


def _pdf(data: bytes) -> Document:
    import pypdf
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise PipelineInputError("the PDF is password-protected; upload an unlocked copy")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except (PdfReadError, ValueError, KeyError) as exc:
        raise PipelineInputError(f"the PDF could not be read ({exc})") from exc
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise PipelineInputError(
            "the PDF has no extractable text (a scanned PDF needs text recognition first)"
        )
    return Document(text, title or None)


def _markdown(text: str) -> Document:
    """Paragraphs, headings and list items as plain-text paragraphs; code blocks dropped."""
    from markdown_it import MarkdownIt

    paragraphs: list[str] = []
    title: str | None = None
    tokens = MarkdownIt("commonmark").parse(text)
    for index, token in enumerate(tokens):
        if token.type != "inline" or not token.children:
            continue
        parts: list[str] = []
        for child in token.children:
            if child.type in ("text", "code_inline", "image"):  # an image's content is its alt
                parts.append(child.content)
            elif child.type in ("softbreak", "hardbreak"):
                parts.append(" ")
        paragraph = "".join(parts).strip()
        if not paragraph:
            continue
        if title is None and index > 0 and tokens[index - 1].type == "heading_open":
            title = paragraph
        paragraphs.append(paragraph)
    return Document("\n\n".join(paragraphs), title)


def _html(text: str) -> Document:
    """Main text by trafilatura; its baseline extractor when the page is too small for it."""
    import trafilatura

    extracted = trafilatura.extract(
        text, include_comments=False, include_tables=True, favor_recall=True
    ) or trafilatura.html2txt(text)
    metadata = trafilatura.extract_metadata(text)
    title = metadata.title if metadata is not None else None
    blocks = [line.strip() for line in extracted.splitlines() if line.strip()]
    return Document("\n\n".join(blocks), title or None)


def _csv(text: str) -> str:
    """One readable line per row: "column: value; column: value."."""
    sample = text[:8192]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, ",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]
    if not rows:
        return ""
    header, *body = rows
    if not body:
        return "; ".join(c.strip() for c in header if c.strip()) + "."
    lines = []
    for row in body:
        cells = [
            f"{name.strip()}: {value.strip().rstrip('.')}" if name.strip() else value.strip()
            for name, value in zip(header, row, strict=False)
            if value.strip()
        ]
        lines.append("; ".join(cells) + ".")
    return "\n".join(lines)
