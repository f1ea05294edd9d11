"""Hostile and careless input, inserted by plain SQL as an outside service would, run through
the intake sensor and the real `make_video` job.

Each case asserts the project's terminal status and message, that nothing of the refused
content reached any table, object or log, and that the other projects of the batch are
unaffected. Most cases stop at the sources stage; the URL cases only ever talk to 127.0.0.1
(every other address is refused before a connection is made).
"""

from __future__ import annotations

import base64
import io
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa
from dagster import AssetKey
from PIL import Image

from video_pipeline.resources import IngestResource
from video_pipeline.samples import DEMO_DIR
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline_tests.helpers import (
    execute_request,
    insert_project_sql,
    local_http_server,
    materialization_metadata,
    tick_intake,
)

PROSE = (DEMO_DIR / "honeybees.md").read_text("utf-8")
ARABIC = (
    "يعيش النحل في خلايا كبيرة تضم آلاف العاملات. تجمع العاملات رحيق الأزهار وتحوله إلى عسل. "
    "ترقص النحلة رقصة خاصة لتخبر أخواتها بمكان الطعام واتجاهه وبعده عن الخلية. "
    "تحافظ الخلية على حرارة ثابتة في الشتاء بفضل اهتزاز عضلات الطيران. "
) * 3


def marker(name: str) -> str:
    return f"HOSTILE{name.upper().replace('-', '')}MARK"


@dataclass
class Case:
    name: str
    expect: list[str]
    sources: list[dict[str, Any]] = field(default_factory=list)
    title: str = "Hostile input"
    brief: str = "A short video about honeybees."
    settings: Any = field(default_factory=dict)  # any JSON, as another service may store
    status: str = "failed"
    loopback: bool = True
    sources_only: bool = False  # a case within the limits: the sources stage succeeds
    secret: str | None = None


def text(content: str, role: str = "material") -> dict[str, Any]:
    return {"role": role, "kind": "text", "content": content}


def url(address: str) -> dict[str, Any]:
    return {"role": "material", "kind": "url", "uri": address}


def file(path: Path | str, role: str = "material") -> dict[str, Any]:
    return {"role": "material" if role == "material" else role, "kind": "file", "uri": str(path)}


class _Redirects(BaseHTTPRequestHandler):
    targets: ClassVar[dict[str, str]] = {
        "/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "/to-private": "http://10.0.0.7/admin",
        "/to-file": "file:///etc/passwd",
        "/to-ipv6-mapped": "http://[::ffff:169.254.169.254]/",
    }

    def do_GET(self) -> None:
        self.send_response(302)
        self.send_header("Location", self.targets.get(self.path, "/"))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def redirector() -> Iterator[str]:
    with local_http_server(_Redirects) as base_url:
        yield base_url


def build_cases(uploads: Path, outside: Path, redirector: str) -> list[Case]:
    rng = random.Random(9)
    secret_file = outside / "secret.txt"
    secret_file.write_text(f"{marker('secret')} the server's private notes. " * 20)
    (uploads / "escape.txt").symlink_to(secret_file)
    (uploads / "environ.txt").symlink_to("/proc/self/environ")
    (uploads / "zero.txt").symlink_to("/dev/zero")
    os.mkfifo(uploads / "pipe.txt")
    (uploads / "folder.txt").mkdir()
    utf16 = uploads / "utf16.txt"
    utf16.write_bytes(PROSE.encode("utf-16"))
    binary = uploads / "blob.txt"
    binary.write_bytes(bytes(rng.randrange(256) for _ in range(4000)) + b"\x00")
    (uploads / "fake.wav").write_text("la la la, not a sound")
    (uploads / "empty.mp3").write_bytes(b"")
    noise = bytes(rng.randrange(32, 256) for _ in range(6000)).decode("latin-1")
    blob = base64.b64encode(rng.randbytes(6000)).decode()
    limit = 1_000_000
    at_limit = (PROSE + "\n\n") * (limit // (len(PROSE.encode()) + 2))
    bad_settings = {
        "aspect": "4:3",
        "resolution": "4k",
        "duration_seconds": "long",
        "camera_motion": "spin",
        "crossfade_seconds": 9,
        "max_cost_usd": -1,
        "subtitle_style": {"primary_colour": "red"},
        "colour_grade": "teal",
    }
    good = [text(PROSE)]
    return [
        # --- files: traversal, symlinks, URIs, system files, devices, pipes
        Case(
            "traversal",
            ["must be inside the uploads folder", str(uploads)],
            [file(uploads / ".." / "outside" / "secret.txt")],
            secret=marker("secret"),
        ),
        Case(
            "symlink-out",
            ["must be inside the uploads folder"],
            [file(uploads / "escape.txt")],
            secret=marker("secret"),
        ),
        Case(
            "file-uri",
            ["must be inside the uploads folder"],
            [file(secret_file.as_uri())],
            secret=marker("secret"),
        ),
        Case(
            "file-uri-host",
            ["file:// URI must name a local file"],
            [file("file://evil.example/share/notes.txt")],
        ),
        Case(
            "proc-environ", ["must be inside the uploads folder"], [file(uploads / "environ.txt")]
        ),
        Case("dev-zero", ["must be inside the uploads folder"], [file(uploads / "zero.txt")]),
        Case("fifo", ["is not a regular file"], [file(uploads / "pipe.txt")]),
        Case("directory", ["is not a regular file"], [file(uploads / "folder.txt")]),
        Case("no-extension", ["unsupported file type '(no extension)'"], [file("/etc/passwd")]),
        Case("binary", ["binary, not text"], [file(binary)]),
        Case("utf16-accepted", [], [file(utf16)], status="queued", sources_only=True),
        # --- URLs: loopback encodings, metadata, IPv6; nothing is connected to
        *[
            Case(f"ssrf-{name}", [reason], [url(address)], loopback=False)
            for name, address, reason in [
                ("decimal", "http://2130706433/admin", "127.0.0.1 is a loopback address"),
                ("hex", "http://0x7f000001/", "127.0.0.1 is a loopback address"),
                ("octal", "http://0177.0.0.1/", "not a valid URL"),
                ("short", "http://127.1:8080/", "127.0.0.1 is a loopback address"),
                ("localhost", "http://localhost/", "is a loopback address"),
                ("metadata", "http://169.254.169.254/latest/", "a cloud metadata address"),
                ("ipv6", "http://[::1]/", "::1 is a loopback address"),
                ("mapped", "http://[::ffff:127.0.0.1]/", "is a loopback address"),
                ("zero", "http://0/", "is a reserved address"),
                ("link-local", "http://169.254.10.1/", "is a link-local address"),
            ]
        ],
        Case(
            "ssrf-all-named",
            ["3 problems", "loopback", "metadata", "is not an http or https URL"],
            [url("http://127.0.0.1/"), url("http://169.254.169.254/"), url("gopher://x/")],
            loopback=False,
        ),
        *[
            Case(f"redirect-{name}", [reason], [url(f"{redirector}/{path}")])
            for name, path, reason in [
                ("metadata", "to-metadata", "a cloud metadata address"),
                ("private", "to-private", "10.0.0.7 is a private network address"),
                ("file", "to-file", "is not an http or https URL"),
                ("mapped", "to-ipv6-mapped", "a cloud metadata address"),
            ]
        ],
        # --- only language becomes facts
        Case(
            "random-latin1",
            ["not natural-language text"],
            [text(noise[:3000] + marker("noise") + noise[3000:])],
            secret=marker("noise"),
        ),
        Case(
            "base64-blob",
            ["not natural-language text", "encoded blob"],
            [text(blob + marker("blob"))],
            secret=marker("blob"),
        ),
        Case("hex-blob", ["not natural-language text"], [text(rng.randbytes(3000).hex())]),
        Case(
            "markup-only",
            ["not natural-language text"],
            [text('<div class="x"><span id="a1"></span><br/><img src="a.png"/></div>\n' * 80)],
        ),
        Case(
            "arabic-in-en",
            ["is Arabic (ar); the project's language is en (English)"],
            [*good, text(ARABIC + marker("arabic"))],
            secret=marker("arabic"),
        ),
        Case(
            "arabic-project",
            [],
            [text(ARABIC)],
            settings={"language": "ar"},
            status="queued",
            sources_only=True,
        ),
        # --- sizes at and past each limit
        Case("inline-at-limit", [], [text(at_limit)], status="queued", sources_only=True),
        Case(
            "inline-over-limit",
            ["the limit for inline text is 1.0 MB"],
            [text(at_limit + "x" * (limit - len(at_limit.encode()) + 1) + marker("big"))],
            secret=marker("big"),
        ),
        Case("sources-at-limit", [], [text(PROSE)] * 20, status="queued", sources_only=True),
        Case(
            "sources-over-limit",
            ["the project has 21 sources; the limit is 20"],
            [text(PROSE)] * 21,
        ),
        Case(
            "title-over-limit",
            ["the title has 301 characters; the limit is 300"],
            good,
            title="T" * 301,
        ),
        Case(
            "brief-over-limit",
            ["the brief has 20,001 characters; the limit is 20,000"],
            good,
            brief="b" * 20_001,
        ),
        Case(
            "duration-over-limit",
            ["duration_seconds: Input should be less than or equal to 900"],
            good,
            settings={"duration_seconds": 901},
        ),
        # --- bad settings of every kind, all in one message
        Case(
            "bad-settings",
            [
                "8 problems",
                "aspect",
                "'9:16', '16:9' or '1:1'",
                "resolution",
                "duration_seconds",
                "camera_motion",
                "crossfade_seconds",
                "max_cost_usd",
                "primary_colour",
                "colour_grade",
            ],
            good,
            settings=bad_settings,
        ),
        Case(
            "captions-over-the-text",
            ["subtitle_style: captions of size_ratio 0.2 above a bottom_margin_ratio of 0.5"],
            good,
            settings={"subtitle_style": {"size_ratio": 0.2, "bottom_margin_ratio": 0.5}},
        ),
        Case(
            "unknown-voice",
            ["there is no voice 'robot-9'", "en-us"],
            good,
            settings={"voice": "robot-9"},
        ),
        Case(
            "openai-voice-offline",
            ["'alloy' is an OpenAI voice", "espeak-ng"],
            good,
            settings={"voice": "alloy"},
        ),
        Case(
            "voice-language-mismatch",
            ["'en-us' speaks en, not the project's language de"],
            good,
            settings={"language": "de", "voice": "en-us"},
        ),
        Case(
            "unsupported-language",
            ["'tlh' is not supported; use one of", "en, eo"],
            good,
            settings={"language": "tlh"},
        ),
        Case(
            "bad-aspect-and-language",
            ["2 problems", "setting aspect", "setting language: 'xx' is not supported"],
            good,
            settings={"aspect": "4:3", "language": "xx"},
        ),
        Case(
            "caption-font-that-ends-its-style-line",
            ["subtitle_style.font", "a font family name is letters, digits"],
            good,
            settings={"subtitle_style": {"font": "DejaVu Sans\n[Events]\nDialogue: 0,x"}},
        ),
        Case(
            "settings-array",
            [
                'settings must be a JSON object of named settings, such as {"duration_seconds"',
                "got an array",
            ],
            good,
            settings=[30, "1080p"],
        ),
        Case(
            "settings-string",
            ["settings must be a JSON object", "got a string"],
            good,
            settings="fast",
        ),
        # --- roles, kinds, an empty project
        Case(
            "empty-project",
            ["3 problems", "no title", "the brief is empty", "no material"],
            [],
            title="  ",
            brief="\n\t ",
        ),
        Case(
            "music-as-text",
            ["background music must be an audio file"],
            [*good, text("la la la", role="music")],
        ),
        Case(
            "music-not-audio",
            ["background music fake.wav is not a readable audio file"],
            [*good, file(uploads / "fake.wav", role="music")],
        ),
        Case(
            "music-empty",
            ["background music empty.mp3 is not a readable audio file"],
            [*good, file("empty.mp3", role="music")],
        ),
    ]


TABLES = ("stage_outputs", "stage_states", "retrievable_text", "renders", "provider_usage")


def everything_stored(engine: sa.Engine) -> str:
    """Every table the pipeline writes, as one text (the client's own input rows aside)."""
    with engine.connect() as conn:
        parts = [str(conn.execute(sa.text(f"SELECT * FROM {table}")).all()) for table in TABLES]
        parts.append(str(conn.execute(sa.text("SELECT status_detail FROM projects")).all()))
    return "\n".join(parts)


def run_logs(instance: Any, run_ids: list[str]) -> str:
    lines = []
    for run_id in run_ids:
        for entry in instance.all_logs(run_id):
            lines.append(entry.user_message or "")
            if entry.dagster_event is not None:
                lines.append(str(entry.dagster_event.event_specific_data))
    return "\n".join(lines)


def test_hostile_input_is_refused_clearly_and_leaves_no_trace(
    stack: dict[str, str],
    engine: sa.Engine,
    defs: Any,
    instance: Any,
    store: ObjectStore,
    redirector: str,
    tmp_path: Path,
) -> None:
    uploads = Path(stack["VIDEO_PIPELINE_DATA_DIR"]).resolve() / "uploads"
    uploads.mkdir(exist_ok=True)
    outside = uploads.parent / "outside"
    outside.mkdir(exist_ok=True)
    cases = build_cases(uploads, outside, redirector)
    assert len(cases) >= 30
    ids: dict[str, str] = {}
    with engine.begin() as conn:
        for case in cases:
            ids[case.name] = insert_project_sql(
                conn,
                owner="hostile",
                title=case.title,
                brief=case.brief,
                settings=case.settings,
                sources=case.sources,
            )
    requests = {r.partition_key: r for r in tick_intake(defs, instance, stack["DATABASE_URL"])}
    assert set(ids.values()) <= set(requests)

    job = defs.resolve_job_def("make_video")
    no_loopback = IngestResource(allow_loopback=False, file_root=str(uploads))
    results = {}
    for case in cases:
        request = requests[ids[case.name]]
        results[case.name] = job.execute_in_process(
            partition_key=request.partition_key,
            instance=instance,
            tags=dict(request.tags),
            raise_on_error=False,
            # Every case ends at the sources stage, so the run need not plan the later ones
            # (a selection cannot be combined with another resource, hence the full job).
            asset_selection=[AssetKey("sources")] if case.loopback else None,
            resources=None if case.loopback else {"ingest": no_loopback},
        )

    with engine.connect() as conn:
        rows = {
            row.id: row
            for row in conn.execute(
                sa.text(
                    "SELECT p.id::text AS id, p.status, p.status_detail, s.state "
                    "FROM projects p LEFT JOIN stage_states s "
                    "ON s.project_id = p.id AND s.stage = 'sources' WHERE p.owner_id = 'hostile'"
                )
            )
        }
        stored = {
            pid: set(
                conn.execute(
                    sa.text("SELECT stage FROM stage_outputs WHERE project_id = :id"), {"id": pid}
                ).scalars()
            )
            for pid in ids.values()
        }
    keys = store.list_keys("")
    for case in cases:
        pid, row, result = ids[case.name], rows[ids[case.name]], results[case.name]
        detail = row.status_detail or ""
        if case.sources_only:
            assert result.success, (case.name, detail)
            assert stored[pid] == {"sources"}, case.name
            assert row.state == "done", case.name
            continue
        assert not result.success, case.name
        assert row.status == case.status, (case.name, row.status, detail)
        assert row.state == "invalid_input", (case.name, row.state)
        assert detail.startswith("sources: "), (case.name, detail)
        for fragment in case.expect:
            assert fragment in detail, (case.name, fragment, detail)
        assert stored[pid] == set(), case.name
        assert not [k for k in keys if pid in k], case.name
        failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        assert len(failures) == 1, case.name  # refused input is never retried

    traces = everything_stored(engine) + run_logs(instance, [r.run_id for r in results.values()])
    traces += "\n".join(keys)
    for case in cases:
        if case.secret:
            assert case.secret not in traces, case.name


def test_injection_attempts_in_accepted_text_are_only_text(
    stack: dict[str, str], engine: sa.Engine, defs: Any, instance: Any, store: ObjectStore
) -> None:
    """SQL, shell, ffmpeg filter syntax and ASS override tags in the title, brief and material
    are carried as text to a finished video; nothing is executed or interpreted."""
    title = "Bees'; DROP TABLE projects; -- $(touch /tmp/pwned) {\\an8\\fs200}"
    injected = (
        "Honeybees dance; drawtext=text='%{pts}':fontfile=/etc/passwd [in]scale=1:1[out]. "
        "{\\pos(0,0)\\c&H0000FF&}Worker bees live about six weeks in summer. `rm -rf /` "
    )
    with engine.begin() as conn:
        project_id = insert_project_sql(
            conn,
            owner="hostile-injection",
            title=title,
            brief="A short video about bees; $(reboot) ' OR 1=1 --",
            settings={"duration_seconds": 20},
            sources=[text(injected + "\n\n" + PROSE)],
        )
    requests = [
        r
        for r in tick_intake(defs, instance, stack["DATABASE_URL"])
        if r.partition_key == project_id
    ]
    result = execute_request(defs, instance, requests[0])

    assert result.success
    assert not Path("/tmp/pwned").exists()
    with engine.connect() as conn:
        row = conn.execute(
            sa.text("SELECT title, status FROM projects WHERE id = :id"), {"id": project_id}
        ).one()
        assert conn.execute(sa.text("SELECT count(*) FROM projects")).scalar_one() > 1
    assert (row.title, row.status) == (title, "done")
    assert any(project_id in key and key.endswith(".mp4") for key in store.list_keys(""))
    # The UI preview is embedded (it never expires) and every offline call was recorded.
    preview = materialization_metadata(result, "render")["thumbnail"]
    prefix = "![thumbnail](data:image/jpeg;base64,"
    assert preview.startswith(prefix)
    with Image.open(io.BytesIO(base64.b64decode(preview[len(prefix) : -1]))) as image:
        assert image.format == "JPEG" and image.width == 240
    with engine.connect() as conn:
        usage = conn.execute(
            sa.text(
                "SELECT stage, capability, count(*) AS calls, sum(input_units) AS units, "
                "sum(cost_usd) AS cost FROM provider_usage WHERE project_id = :id "
                "GROUP BY stage, capability"
            ),
            {"id": project_id},
        ).all()
    recorded = {(u.stage, u.capability) for u in usage}
    assert {("research", "content"), ("script", "content"), ("safety_check", "moderation")} <= (
        recorded
    )
    assert {("embeddings", "embeddings"), ("render", "speech"), ("render", "images")} <= recorded
    assert all(u.calls >= 1 and u.cost == 0 for u in usage)
    assert all(u.units > 0 for u in usage if u.capability != "images")


@pytest.mark.parametrize(
    ("column", "value"), [("role", "narrator"), ("kind", "ftp"), ("kind", "file://")]
)
def test_unknown_roles_and_kinds_are_refused_by_the_schema(
    engine: sa.Engine, column: str, value: str
) -> None:
    """The public schema itself refuses them, so no project with such a source exists."""
    source = {"role": "material", "kind": "text", "content": PROSE, column: value}
    refused = pytest.raises(sa.exc.IntegrityError, match=f"project_sources_{column}_check")
    with refused, engine.begin() as conn:
        insert_project_sql(conn, owner="hostile-schema", title="T", brief="B", sources=[source])
    with engine.connect() as conn:
        assert not conn.execute(
            sa.text("SELECT count(*) FROM projects WHERE owner_id = 'hostile-schema'")
        ).scalar_one()
