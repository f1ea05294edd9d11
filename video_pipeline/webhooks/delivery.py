"""Queueing events for delivery and delivering them, at least once, with backoff.

Runs in the daemon (the `deliver_webhooks` sensor), never inside a stage, so a slow
receiver delays no video. Which events still need a delivery row is derived from state
(an anti-join), not from a cursor, so an event whose transaction commits late is not missed.
"""

from __future__ import annotations

import json
import random
import socket
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from video_pipeline.errors import PipelineInputError
from video_pipeline.platform_config import PlatformConfig
from video_pipeline.stages.fetch import resolve_checked
from video_pipeline.storage.object_store import ObjectStore
from video_pipeline.storage.tables import owner_settings, project_events, projects
from video_pipeline.storage.tables import webhook_deliveries as deliveries
from video_pipeline.webhooks.payloads import EVENT_TYPES, event_payload, presigned_media
from video_pipeline.webhooks.signing import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
)

FIRST_RETRY_SECONDS = 10.0
MAX_RETRY_SECONDS = 3600.0
SENDERS = 8
"""Deliveries sent at once: a slow receiver holds one sender, not every owner's events."""
TICK_SECONDS = 40.0
"""How long a tick goes on starting rounds of deliveries (Dagster ends a sensor tick at 60 s;
a tick it gave up on would otherwise still be sending while the next one starts)."""
ERROR_BODY_BYTES = 200


def enqueue_events(
    engine: sa.Engine, store: ObjectStore, config: PlatformConfig, now: datetime | None = None
) -> int:
    """Create a delivery row for each webhook event that has a URL and none yet."""
    now = now or datetime.now(UTC)
    url = _webhook_url(config)
    query = (
        sa.select(project_events, projects.c.owner_id, projects.c.title, url.label("url"))
        .join(projects, projects.c.id == project_events.c.project_id)
        .outerjoin(owner_settings, owner_settings.c.owner_id == projects.c.owner_id)
        .outerjoin(deliveries, deliveries.c.event_id == project_events.c.id)
        .where(
            deliveries.c.id.is_(None),
            url.is_not(None),
            project_events.c.to_status.in_(EVENT_TYPES),
            project_events.c.from_status.is_distinct_from(project_events.c.to_status),
            project_events.c.time >= now - timedelta(seconds=config.webhook_retry_seconds),
        )
        .order_by(project_events.c.id)
        .limit(500)
    )
    with engine.begin() as conn:
        events = conn.execute(query).all()
        for event in events:
            media = (
                presigned_media(
                    conn, store, str(event.project_id), config.webhook_link_seconds, now
                )
                if event.to_status == "done"
                else None
            )
            conn.execute(
                insert(deliveries)
                .values(
                    event_id=event.id,
                    project_id=event.project_id,
                    event_type=event.to_status,
                    url=event.url,
                    payload=event_payload(event, event.title, event.owner_id, media),
                    next_attempt_at=now,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=[deliveries.c.event_id])
            )
    return len(events)


def _webhook_url(config: PlatformConfig) -> sa.ColumnElement[str]:
    """A project's webhook: its own, else its owner's, else the deployment's (a query must
    join `owner_settings` to `projects`)."""
    project_url = projects.c.settings["webhook_url"].astext
    return sa.func.coalesce(project_url, owner_settings.c.webhook_url, config.webhook_url)


def current_urls(
    engine: sa.Engine, project_ids: list[str], config: PlatformConfig
) -> dict[str, str | None]:
    """Each project's webhook as it is set now (a retry goes to the URL its owner changed
    it to, not to the one the event was queued for)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(projects.c.id, _webhook_url(config))
            .outerjoin(owner_settings, owner_settings.c.owner_id == projects.c.owner_id)
            .where(projects.c.id.in_(project_ids))
        ).all()
    return {str(project_id): url for project_id, url in rows}


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    error: str | None
    refused: bool = False

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post_event(
    url: str, body: bytes, event_type: str, event_id: str, config: PlatformConfig
) -> Attempt:
    """POST one signed event to the address the URL resolves to, checked like a URL source."""
    try:
        target = httpx.URL(url)
        if target.scheme not in ("http", "https") or not target.host:
            raise PipelineInputError(f"{url!r} is not an http or https URL")
        port = target.port or (443 if target.scheme == "https" else 80)
        address = resolve_checked(target.host, port, config.allow_loopback_urls)
    except (PipelineInputError, httpx.InvalidURL) as exc:
        if isinstance(exc.__cause__, socket.gaierror):
            return Attempt(None, f"{exc} (tried again later)")
        return Attempt(None, f"webhook URL refused: {exc}", refused=True)
    timestamp = int(time.time())
    headers = {
        "Host": target.netloc.decode("ascii"),
        "Content-Type": "application/json",
        "User-Agent": "video-pipeline-webhooks/0.1",
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: f"project.{event_type}",
        TIMESTAMP_HEADER: str(timestamp),
    }
    if config.webhook_secret:
        headers[SIGNATURE_HEADER] = signature(config.webhook_secret, timestamp, body)
    try:
        with (
            httpx.Client(timeout=config.webhook_timeout_seconds, trust_env=False) as client,
            client.stream(
                "POST",
                target.copy_with(host=str(address)),
                content=body,
                headers=headers,
                extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
            ) as response,
        ):
            # The status says it all: a body is never waited for, nor read beyond its start.
            if 200 <= response.status_code < 300:
                return Attempt(response.status_code, None)
            start = _first_bytes(response, ERROR_BODY_BYTES, config.webhook_timeout_seconds)
    except httpx.TimeoutException:
        return Attempt(None, f"no answer within {config.webhook_timeout_seconds:g} s (timeout)")
    except httpx.HTTPError as exc:
        return Attempt(None, f"{type(exc).__name__}: {exc}")
    text = start.decode("utf-8", "replace")
    return Attempt(response.status_code, f"HTTP {response.status_code}: {text}")


def _first_bytes(response: httpx.Response, limit: int, seconds: float) -> bytes:
    """At most `limit` bytes of the body, read for at most `seconds` (a receiver may send an
    endless body, or one byte a second)."""
    deadline = time.monotonic() + seconds
    start = b""
    for chunk in response.iter_raw(limit):
        start += chunk
        if len(start) >= limit or time.monotonic() > deadline:
            break
    return start[:limit]


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: about 10 s, 20 s, 40 s … up to an hour."""
    base = min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), MAX_RETRY_SECONDS)
    return base * random.uniform(0.8, 1.2)


def deliver_due(
    engine: sa.Engine, config: PlatformConfig, now: datetime | None = None
) -> Counter[str]:
    """Send the pending deliveries whose time has come, in rounds of at most `SENDERS` sent at
    once, each round at most one event per project (its oldest due one, so that a project's
    first attempts go out in order), until none is due or the tick's time is spent; returns
    outcomes by kind. Times are this clock's (`now` when a test sets it) as each round
    ends, not the tick's start."""
    start, started = now or datetime.now(UTC), time.monotonic()
    # Connecting, sending and the answer are each bounded by the timeout.
    worst = 3 * config.webhook_timeout_seconds

    def clock() -> datetime:
        return start + timedelta(seconds=time.monotonic() - started)

    outcomes: Counter[str] = Counter()
    with ThreadPoolExecutor(SENDERS, thread_name_prefix="webhook") as senders:
        while not outcomes or time.monotonic() - started + worst <= TICK_SECONDS:
            claimed = _claim(engine, clock(), clock() + timedelta(seconds=worst + 30))
            if not claimed:
                break
            urls = current_urls(engine, [str(row.project_id) for row in claimed], config)
            sends = [(row, urls.get(str(row.project_id))) for row in claimed]
            for (row, url), attempt in zip(sends, senders.map(_send(config), sends), strict=True):
                outcomes[_record(engine, row, url, attempt, clock(), config)] += 1
    return outcomes


def _claim(engine: sa.Engine, now: datetime, lease: datetime) -> list[sa.Row[Any]]:
    """Claim the next round by moving its rows' next attempt past a lease, so that a
    concurrent tick skips them (the update re-checks each row once it holds its lock)."""
    oldest_per_project = (
        sa.select(deliveries.c.id, deliveries.c.next_attempt_at, deliveries.c.event_id)
        .where(deliveries.c.status == "pending", deliveries.c.next_attempt_at <= now)
        .distinct(deliveries.c.project_id)
        .order_by(deliveries.c.project_id, deliveries.c.event_id)
        .subquery()
    )
    due = (
        sa.select(oldest_per_project.c.id)
        .order_by(oldest_per_project.c.next_attempt_at, oldest_per_project.c.event_id)
        .limit(SENDERS)
    )
    with engine.begin() as conn:
        return list(
            conn.execute(
                sa.update(deliveries)
                .where(
                    deliveries.c.id.in_(due.scalar_subquery()),
                    deliveries.c.status == "pending",
                    deliveries.c.next_attempt_at <= now,
                )
                .values(next_attempt_at=lease)
                .returning(deliveries)
            ).all()
        )


def _send(config: PlatformConfig) -> Callable[[tuple[sa.Row[Any], str | None]], Attempt]:
    def send(row_and_url: tuple[sa.Row[Any], str | None]) -> Attempt:
        row, url = row_and_url
        if url is None:
            return Attempt(None, "the project's webhook URL was removed", refused=True)
        body = json.dumps(row.payload, separators=(",", ":"), sort_keys=True).encode()
        return post_event(url, body, row.event_type, row.payload["id"], config)

    return send


def _record(
    engine: sa.Engine,
    row: sa.Row[Any],
    url: str | None,
    attempt: Attempt,
    now: datetime,
    config: PlatformConfig,
) -> str:
    attempts = row.attempts + 1
    values: dict[str, object] = {
        "attempts": attempts,
        "last_status_code": attempt.status_code,
        "last_error": attempt.error,
        "url": url or row.url,
    }
    if attempt.delivered:
        values.update(status="delivered", delivered_at=now)
    elif attempt.refused:
        values.update(status="refused")
    else:
        next_at = now + timedelta(seconds=retry_delay(attempts))
        gave_up = next_at > row.created_at + timedelta(seconds=config.webhook_retry_seconds)
        values.update(status="failed" if gave_up else "pending", next_attempt_at=next_at)
    with engine.begin() as conn:
        conn.execute(sa.update(deliveries).where(deliveries.c.id == row.id).values(**values))
    return str(values["status"])
