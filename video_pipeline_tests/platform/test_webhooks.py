"""Signed webhooks from a real run to a real HTTP receiver on 127.0.0.1 that answers 500
twice per event, then 200: each event arrives once with the same id after its retries."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from dagster import build_sensor_context

from video_pipeline.platform_config import PlatformConfig
from video_pipeline.stages.sources import IngestLimits
from video_pipeline.storage.ledger import mark_queued
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline.webhooks.delivery import deliver_due, enqueue_events
from video_pipeline.webhooks.signing import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    verify,
)
from video_pipeline_tests.helpers import insert_project_sql
from video_pipeline_tests.platform.conftest import run_project, sensor_resources

SECRET = "whsec-test-secret"


class Receiver:
    """Checks each request's signature; fails the first `failures` attempts of every event."""

    def __init__(self, failures: int = 2) -> None:
        self.failures = failures
        self.attempts: dict[str, int] = {}
        self.accepted: list[dict[str, Any]] = []
        self.bad_signatures = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                signed = verify(
                    SECRET,
                    int(self.headers[TIMESTAMP_HEADER]),
                    body,
                    self.headers.get(SIGNATURE_HEADER, ""),
                    now=time.time(),
                )
                event = json.loads(body)
                assert event["id"] == self.headers[EVENT_ID_HEADER]
                with lock:
                    if not signed:
                        receiver.bad_signatures += 1
                    seen = receiver.attempts.get(event["id"], 0) + 1
                    receiver.attempts[event["id"]] = seen
                    ok = signed and seen > receiver.failures
                    if ok:
                        receiver.accepted.append(event)
                self.send_response(200 if ok else 500)
                self.end_headers()
                self.wfile.write(b"ok" if ok else b"try again")

            def log_message(self, format: str, *args: Any) -> None:
                return None

        lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


def config(**overrides: Any) -> PlatformConfig:
    return PlatformConfig(
        webhook_secret=SECRET,
        ingest=IngestLimits(allow_loopback=True),
        webhook_timeout_seconds=5,
        **overrides,
    )


def deliveries(engine: sa.Engine, project_id: str) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT event_type, status, attempts, last_status_code, last_error, payload "
                    "FROM webhook_deliveries WHERE project_id = :id ORDER BY event_id"
                ),
                {"id": project_id},
            ).all()
        )


def test_events_of_a_run_are_signed_retried_and_delivered_once(
    stack: dict[str, str],
    engine: sa.Engine,
    store: ObjectStore,
    defs: Any,
    instance: Any,
    receiver: Receiver,
) -> None:
    project_id = run_project(
        stack, engine, defs, instance, "platform-webhooks", webhook_url=receiver.url
    )
    platform = config()
    now = datetime.now(UTC)
    # The daemon's sensor queues the events and makes the first attempt.
    context = build_sensor_context(
        instance=instance,
        resources=sensor_resources(stack, store, platform=platform),
    )
    skip = defs.resolve_sensor_def("deliver_webhooks")(context)
    assert "queued 3 events" in skip.skip_message
    assert enqueue_events(engine, store, platform) == 0, "an event is queued only once"
    # Two more rounds, each after the backoff has passed.
    for hours in (2, 4):
        deliver_due(engine, platform, now=now + timedelta(hours=hours))

    rows = deliveries(engine, project_id)
    assert [r.event_type for r in rows] == ["queued", "running", "done"]
    assert all(r.status == "delivered" and r.attempts == 3 for r in rows)
    assert all(r.last_status_code == 200 and r.last_error is None for r in rows)
    assert receiver.bad_signatures == 0
    assert sorted(receiver.attempts.values()) == [3, 3, 3]
    ids = [event["id"] for event in receiver.accepted]
    assert sorted(ids) == sorted({r.payload["id"] for r in rows}) and len(set(ids)) == 3

    done = next(e for e in receiver.accepted if e["type"] == "project.done")
    assert done["project"]["id"] == project_id and done["project"]["status"] == "done"
    assert datetime.fromisoformat(done["created_at"]) <= datetime.now(UTC)
    video = httpx.get(done["video"]["url"])
    assert video.status_code == 200 and video.content[4:8] == b"ftyp"
    assert httpx.get(done["video"]["captions"]["vtt"]).text.startswith("WEBVTT")
    assert httpx.get(done["video"]["thumbnail_url"]).content[:2] == b"\xff\xd8"


def test_a_private_address_is_refused_and_an_unreachable_one_retried_until_the_window_ends(
    engine: sa.Engine, store: ObjectStore
) -> None:
    with engine.begin() as conn:
        refused, silent = (
            insert_project_sql(
                conn,
                owner=f"platform-webhooks-{name}",
                title="T",
                brief="B",
                settings={"webhook_url": url},
            )
            for name, url in (
                ("refused", "http://10.1.2.3/hook"),
                ("silent", "http://127.0.0.1:9/x"),
            )
        )
    mark_queued(engine, [refused, silent])
    platform = config(webhook_retry_seconds=600)
    now = datetime.now(UTC)
    enqueue_events(engine, store, platform, now=now)
    deliver_due(engine, platform, now=now)

    [row] = deliveries(engine, refused)
    assert row.status == "refused" and row.attempts == 1
    assert "10.1.2.3 is a private network address" in row.last_error
    [row] = deliveries(engine, silent)
    assert row.status == "pending" and row.attempts == 1 and row.last_status_code is None
    deliver_due(engine, platform, now=now + timedelta(minutes=5))
    deliver_due(engine, platform, now=now + timedelta(minutes=15))
    [row] = deliveries(engine, silent)
    assert row.status == "failed" and row.attempts == 3


class Trickle(BaseHTTPRequestHandler):
    """/drip: 200, then a byte every half second; /endless: 500 and a body without end;
    anything else: 200 at once. Each ends when the client goes away."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(500 if self.path == "/endless" else 200)
        self.send_header("Content-Length", str(10**9))
        self.end_headers()
        try:
            while self.path in ("/drip", "/endless"):
                self.wfile.write(b"x" if self.path == "/drip" else b"y" * 65536)
                self.wfile.flush()
                time.sleep(0.5 if self.path == "/drip" else 0)
        except (BrokenPipeError, ConnectionResetError):
            return

    def log_message(self, format: str, *args: Any) -> None:
        return None


def test_receivers_that_trickle_or_never_stop_hold_up_no_one_and_a_dns_failure_is_retried(
    engine: sa.Engine, store: ObjectStore
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urls = {
        "drip-1": f"{base}/drip",
        "drip-2": f"{base}/drip",
        "endless": f"{base}/endless",
        "prompt": f"{base}/ok",
        "no-dns": "http://no-such-host.invalid/hook",
    }
    with engine.begin() as conn:
        ids = {
            name: insert_project_sql(
                conn,
                owner=f"webhooks-{name}",
                title="T",
                brief="B",
                settings={"webhook_url": url},
            )
            for name, url in urls.items()
        }
    mark_queued(engine, list(ids.values()))
    platform = config()
    enqueue_events(engine, store, platform)
    tick = threading.Thread(target=deliver_due, args=(engine, platform), daemon=True)
    tick.start()
    # Before, the first dripping answer was read to its end (never), and everyone waited.
    tick.join(120)
    try:
        assert not tick.is_alive(), "a delivery round never ended"
    finally:
        server.shutdown()
        server.server_close()
    rows = {name: deliveries(engine, ids[name])[0] for name in ids}
    for name in ("drip-1", "drip-2", "prompt"):
        assert (rows[name].status, rows[name].last_status_code) == ("delivered", 200), name
    endless = rows["endless"]
    assert endless.status == "pending" and endless.last_error == "HTTP 500: " + "y" * 200
    no_dns = rows["no-dns"]
    assert no_dns.status == "pending" and "could not be resolved (DNS failure)" in (
        no_dns.last_error
    )


def test_a_retry_goes_to_the_webhook_url_as_it_is_set_now(
    engine: sa.Engine, store: ObjectStore
) -> None:
    """An owner fixes a broken webhook URL: the events still pending go to the new one."""
    fixed = Receiver(failures=0)
    fixed.thread.start()
    try:
        with engine.begin() as conn:
            project_id = insert_project_sql(
                conn,
                owner="webhooks-moved",
                title="T",
                brief="B",
                settings={"webhook_url": "http://127.0.0.1:9/broken"},
            )
        mark_queued(engine, [project_id])
        platform = config()
        now = datetime.now(UTC)
        enqueue_events(engine, store, platform, now=now)
        deliver_due(engine, platform, now=now)
        [row] = deliveries(engine, project_id)
        assert row.status == "pending" and row.last_status_code is None
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "UPDATE projects SET settings = jsonb_set(settings, '{webhook_url}', "
                    "to_jsonb(CAST(:url AS text))) WHERE id = :id"
                ),
                {"url": fixed.url, "id": project_id},
            )
        deliver_due(engine, platform, now=now + timedelta(minutes=5))
    finally:
        fixed.server.shutdown()
        fixed.server.server_close()
    [row] = deliveries(engine, project_id)
    assert (row.status, row.last_status_code) == ("delivered", 200)
    assert [event["project"]["id"] for event in fixed.accepted] == [project_id]
