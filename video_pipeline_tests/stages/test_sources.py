"""Every source kind and format, and a clear message for every way a source can be bad."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from video_pipeline.errors import PipelineInputError
from video_pipeline.models import Project, ProjectSettings, SourceInput, Sources
from video_pipeline.stages.sources import IngestLimits, extract_sources
from video_pipeline_tests.stages.conftest import FIXTURES

LOCAL = IngestLimits(allow_loopback=True, timeout_seconds=2)


def project(*sources: SourceInput, title: str = "Bees", brief: str = "About bees.") -> Project:
    return Project(
        id="p1",
        owner_id="o1",
        title=title,
        brief=brief,
        settings=ProjectSettings(),
        sources=list(sources),
    )


def material(kind: str, uri: str | None = None, content: str | None = None) -> SourceInput:
    return SourceInput(id=7, role="material", kind=kind, uri=uri, content=content)


def extract_one(source: SourceInput, limits: IngestLimits | None = None) -> str:
    return extract_sources(project(source), limits).items[0].text


def test_inline_text_is_normalised_and_hashed() -> None:
    sources = extract_sources(
        project(material("text", content="  Bees   make\thoney.\r\n\n\n\nThey  dance. "))
    )
    item = sources.items[0]
    assert item.text == "Bees make honey.\n\nThey dance."
    assert item.sha256 == hashlib.sha256(item.text.encode()).hexdigest()
    assert item.char_count == len(item.text)
    assert (item.source_id, item.role, item.kind) == (7, "material", "text")


def test_demo_project_extracts_markdown_html_and_transcript(demo_sources: Sources) -> None:
    markdown, html, transcript = demo_sources.items
    assert markdown.title == "How a honeybee colony works"
    assert (
        "Apis mellifera" in markdown.text and "*" not in markdown.text and "#" not in markdown.text
    )
    assert html.title == "A short history of beekeeping"
    assert "Langstroth" in html.text
    assert "All rights reserved" not in html.text and "Home" not in html.text.split("\n")[0]
    assert transcript.role == "reference" and transcript.text.startswith("[00:00:00]")


def test_pdf_file() -> None:
    sources = extract_sources(project(material("file", str(FIXTURES / "bicycle.pdf"))))
    assert "Karl Drais in 1817" in sources.items[0].text
    assert sources.items[0].title == "The first bicycles"


def test_csv_file_becomes_readable_lines() -> None:
    text = extract_one(material("file", str(FIXTURES / "honey_production.csv")))
    assert (
        text.splitlines()[0]
        == "country: China; year: 2022; honey_tonnes: 461900; beehives: 9500000."
    )
    assert len(text.splitlines()) == 5


def test_latin1_text_file_is_detected_and_decoded() -> None:
    text = extract_one(material("file", str(FIXTURES / "latin1.txt")))
    assert "Café culture in Zürich" in text and "naïve" in text and "maître d'hôtel" in text


def test_relative_paths_resolve_against_base_dir_and_file_uris_work() -> None:
    limits = IngestLimits(base_dir=str(FIXTURES))
    assert "Drais" in extract_one(material("file", "bicycle.pdf"), limits)
    assert "Drais" in extract_one(material("file", (FIXTURES / "bicycle.pdf").as_uri()))


def test_url_sources_in_each_format(local_server: str) -> None:
    assert "Langstroth" in extract_one(material("url", f"{local_server}/page.html"), LOCAL)
    assert "Zürich" in extract_one(material("url", f"{local_server}/latin1"), LOCAL)
    assert "Drais" in extract_one(material("url", f"{local_server}/doc.pdf"), LOCAL)
    assert "waggle dance" in extract_one(material("url", f"{local_server}/notes.md"), LOCAL)


def test_redirects_to_allowed_addresses_are_followed(local_server: str) -> None:
    assert "Langstroth" in extract_one(material("url", f"{local_server}/redirect"), LOCAL)


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (material("file", "/nonexistent/notes.txt"), "file not found: /nonexistent/notes.txt"),
        (material("file", "/tmp/report.docx"), "unsupported file type '.docx'"),
        (material("text", content=" \n\t "), "(inline text) is empty"),
        (material("text"), "(inline text) is empty"),
        (material("file"), "(file '') needs a uri"),
        (material("url", "ftp://example.com/a.txt"), "is not an http or https URL"),
    ],
)
def test_bad_sources_are_refused_with_a_message_naming_them(
    source: SourceInput, message: str
) -> None:
    with pytest.raises(PipelineInputError, match=r"^source 7 ") as raised:
        extract_sources(project(source))
    assert message in str(raised.value)


def test_unsupported_source_kind() -> None:
    odd = SourceInput.model_construct(id=3, role="material", kind="ftp", uri="x", content=None)  # type: ignore[arg-type]
    with pytest.raises(PipelineInputError, match=r"source 3 .*has kind .ftp.; use one of"):
        extract_sources(project(odd))


def test_binary_file_with_a_text_suffix(tmp_path: Path) -> None:
    path = tmp_path / "blob.txt"
    path.write_bytes(b"\x00\xff\x10" * 100)
    with pytest.raises(PipelineInputError, match="binary, not text"):
        extract_sources(project(material("file", str(path))))


def test_file_larger_than_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    shutil.copy(FIXTURES / "borderline.txt", path)
    with pytest.raises(PipelineInputError, match="too large"):
        extract_sources(project(material("file", str(path))), IngestLimits(max_bytes=100))


def test_empty_brief_and_title_are_refused() -> None:
    text = material("text", content="Bees make honey.")
    with pytest.raises(PipelineInputError, match="the brief is empty"):
        extract_sources(project(text, brief="   "))
    with pytest.raises(PipelineInputError, match="no title"):
        extract_sources(project(text, title=""))
    with pytest.raises(PipelineInputError, match=r"^2 problems to fix: \(1\) .*no title.*\(2\)"):
        extract_sources(project(text, title="", brief=" "))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/missing", "HTTP 404 Not Found"),
        ("/binary", "unsupported content type 'application/octet-stream'"),
        ("/empty.txt", "the source is empty"),
        ("/loop", "too many redirects"),
    ],
)
def test_url_failures(local_server: str, path: str, message: str) -> None:
    with pytest.raises(PipelineInputError, match=r"^source 7 \(url .http") as raised:
        extract_sources(project(material("url", local_server + path)), LOCAL)
    assert message in str(raised.value)


def test_url_larger_than_the_limit(local_server: str) -> None:
    limits = IngestLimits(allow_loopback=True, max_bytes=1000)
    with pytest.raises(PipelineInputError, match="too large"):
        extract_sources(project(material("url", f"{local_server}/big.txt")), limits)


def test_url_that_answers_too_late(local_server: str) -> None:
    limits = IngestLimits(allow_loopback=True, timeout_seconds=0.3)
    with pytest.raises(PipelineInputError, match=r"did not answer within 0.3 s \(timeout\)"):
        extract_sources(project(material("url", f"{local_server}/slow")), limits)


def test_file_root_confines_file_sources(tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    inside = uploads / "notes.txt"
    inside.write_text("Bees make honey from nectar.")
    outside = tmp_path / "secret.txt"
    outside.write_text("not for videos")
    escape = uploads / "link.txt"
    escape.symlink_to(outside)
    limits = IngestLimits(file_root=str(uploads))

    assert extract_one(material("file", str(inside)), limits) == "Bees make honey from nectar."
    for path in (outside, escape, uploads / ".." / "secret.txt"):
        with pytest.raises(PipelineInputError, match=f"inside the uploads folder {uploads}"):
            extract_one(material("file", str(path)), limits)


def test_system_files_devices_and_pipes_are_refused_even_with_every_file_open(
    tmp_path: Path,
) -> None:
    (tmp_path / "null.txt").symlink_to("/dev/null")
    (tmp_path / "status.txt").symlink_to("/proc/self/status")
    os.mkfifo(tmp_path / "pipe.txt")
    unconfined = IngestLimits(file_root=None)
    for name, message in [
        ("null.txt", "is a system file"),
        ("status.txt", "is a system file"),
        ("pipe.txt", "is not a regular file"),
    ]:
        with pytest.raises(PipelineInputError, match=message):
            extract_one(material("file", str(tmp_path / name)), unconfined)


def test_every_bad_source_is_named_in_one_message(tmp_path: Path) -> None:
    sources = [
        SourceInput(id=1, role="material", kind="file", uri="/nonexistent/a.txt"),
        SourceInput(id=2, role="material", kind="url", uri="http://169.254.169.254/"),
        SourceInput(id=3, role="material", kind="text", content="x" * 1_000_001),
        SourceInput(id=4, role="material", kind="text", content="Bees make honey."),
    ]
    with pytest.raises(PipelineInputError) as raised:
        extract_sources(project(*sources))
    message = str(raised.value)
    assert message.startswith("3 problems to fix: (1) source 3 (inline text) is 1.0 MB")
    assert "source 1 (file '/nonexistent/a.txt'): file not found" in message
    assert "source 2 (url 'http://169.254.169.254/'): refused to connect to" in message
    assert "source 4" not in message
