"""Fetching a URL with size and time limits and a guard against server-side request forgery.

Every hop (the first request and each redirect) resolves the host, refuses private, loopback,
link-local, multicast, reserved and cloud-metadata addresses, and then connects to the very
address it checked (the Host header and TLS server name keep the original host name), so a
DNS answer that changes between the check and the connection cannot slip through.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from video_pipeline.errors import PipelineInputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_USER_AGENT = "video-pipeline/0.1 (+source ingestion)"


@dataclass(frozen=True)
class FetchLimits:
    max_bytes: int
    timeout_seconds: float
    allow_loopback: bool
    max_redirects: int = 5


@dataclass(frozen=True)
class Fetched:
    url: str
    body: bytes
    content_type: str | None
    charset: str | None


def refusal(address: IPAddress, allow_loopback: bool) -> str | None:
    """Why a connection to this address is refused, or None when it is allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_unspecified:
        return "a reserved address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private network address"
    if address.is_reserved or not address.is_global:
        return "a reserved address"
    return None


def resolve_checked(host: str, port: int, allow_loopback: bool) -> IPAddress:
    """Resolve `host` and return an allowed address; refuse if any address it has is refused."""
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise PipelineInputError(
                f"the host name {host!r} could not be resolved (DNS failure); check the URL"
            ) from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    for address in addresses:
        reason = refusal(address, allow_loopback)
        if reason:
            raise PipelineInputError(
                f"refused to connect to {host}: {address} is {reason}; "
                "only public internet addresses can be reached"
            )
    return addresses[0]


def fetch(url: str, limits: FetchLimits) -> Fetched:
    """GET `url`, following up to `limits.max_redirects` redirects, each hop checked."""
    current = url
    with httpx.Client(timeout=limits.timeout_seconds, trust_env=False) as client:
        for _hop in range(limits.max_redirects + 1):
            target = _parse(current)
            port = target.port or (443 if target.scheme == "https" else 80)
            address = resolve_checked(target.host, port, limits.allow_loopback)
            request = client.build_request(
                "GET",
                target.copy_with(host=str(address)),
                headers={"Host": target.netloc.decode("ascii"), "User-Agent": _USER_AGENT},
                extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
            )
            try:
                response = client.send(request, stream=True)
                try:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECTS and location:
                        current = urljoin(str(target), location)
                        continue
                    if response.status_code >= 400:
                        raise PipelineInputError(
                            f"the server answered HTTP {response.status_code} "
                            f"{response.reason_phrase} for {target}"
                        )
                    body = _read_limited(response, limits)
                finally:
                    response.close()
            except httpx.TimeoutException as exc:
                raise PipelineInputError(
                    f"{target.host} did not answer within {limits.timeout_seconds:g} s (timeout)"
                ) from exc
            except httpx.ConnectError as exc:
                raise PipelineInputError(
                    f"could not connect to {target.host} (connection refused or unreachable)"
                ) from exc
            except httpx.HTTPError as exc:
                raise PipelineInputError(f"the download from {target.host} failed: {exc}") from exc
            content_type = response.headers.get("content-type", "")
            return Fetched(
                url=str(target),
                body=body,
                content_type=content_type.split(";")[0].strip().lower() or None,
                charset=response.charset_encoding,
            )
    raise PipelineInputError(f"too many redirects (more than {limits.max_redirects}) from {url}")


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise PipelineInputError(f"{url!r} is not a valid URL") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise PipelineInputError(f"{url!r} is not an http or https URL")
    return parsed


def _read_limited(response: httpx.Response, limits: FetchLimits) -> bytes:
    """Read the body, refusing it as soon as it exceeds the size or the overall time limit."""
    too_large = PipelineInputError(
        f"the content is too large (over the {limits.max_bytes / 1_000_000:g} MB limit)"
    )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise too_large
    deadline = time.monotonic() + limits.timeout_seconds
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > limits.max_bytes:
            raise too_large
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the download took too long", request=response.request)
        chunks.append(chunk)
    return b"".join(chunks)
