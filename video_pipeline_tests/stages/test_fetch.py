"""The guard against server-side request forgery, and unreachable hosts."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from video_pipeline.errors import PipelineInputError
from video_pipeline.stages.fetch import FetchLimits, fetch

STRICT = FetchLimits(max_bytes=1_000_000, timeout_seconds=2, allow_loopback=False)
LOOPBACK_OK = FetchLimits(max_bytes=1_000_000, timeout_seconds=2, allow_loopback=True)


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything tries to send a request."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a request was sent")

    monkeypatch.setattr(httpx.Client, "send", refuse)


def fake_dns(monkeypatch: pytest.MonkeyPatch, address: str | None) -> None:
    def getaddrinfo(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        if address is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_loopback_is_refused_by_default_and_allowed_for_tests(local_server: str) -> None:
    with pytest.raises(PipelineInputError, match="a loopback address"):
        fetch(f"{local_server}/page.html", STRICT)
    fetched = fetch(f"{local_server}/page.html", LOOPBACK_OK)
    assert fetched.content_type == "text/html" and b"Langstroth" in fetched.body


@pytest.mark.usefixtures("no_connections")
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "a cloud metadata address"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "a cloud metadata address"),
        ("http://10.1.2.3/", "a private network address"),
        ("http://192.168.0.1/", "a private network address"),
        ("http://169.254.10.10/", "a link-local address"),
        ("http://224.0.0.1/", "a multicast address"),
        ("http://0.0.0.0/", "a reserved address"),
        ("http://[::ffff:127.0.0.1]/", "a loopback address"),
    ],
)
def test_refused_addresses_are_refused_before_connecting(url: str, reason: str) -> None:
    with pytest.raises(PipelineInputError, match=f"is {reason}; only public"):
        fetch(url, STRICT)


def test_metadata_address_is_refused_even_when_loopback_is_allowed(no_connections: None) -> None:
    with pytest.raises(PipelineInputError, match="cloud metadata"):
        fetch("http://169.254.169.254/", LOOPBACK_OK)


def test_public_name_resolving_to_a_private_address_is_refused(
    monkeypatch: pytest.MonkeyPatch, no_connections: None
) -> None:
    fake_dns(monkeypatch, "10.20.30.40")
    with pytest.raises(
        PipelineInputError,
        match=r"intranet\.example\.com: 10\.20\.30\.40 is a private network address",
    ):
        fetch("https://intranet.example.com/wiki", STRICT)


@pytest.mark.parametrize("path", ["/redirect-metadata", "/redirect-private"])
def test_redirect_to_a_refused_address_is_refused(local_server: str, path: str) -> None:
    with pytest.raises(PipelineInputError, match="refused to connect to"):
        fetch(local_server + path, LOOPBACK_OK)


def test_dns_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_dns(monkeypatch, None)
    with pytest.raises(PipelineInputError, match="could not be resolved \\(DNS failure\\)"):
        fetch("https://no-such-host.example/", STRICT)


def test_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(PipelineInputError, match="connection refused or unreachable"):
        fetch(f"http://127.0.0.1:{port}/", LOOPBACK_OK)
