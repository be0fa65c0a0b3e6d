"""HTTP for the fetch stage: one outcome per URL, never an exception.

Each request is checked before it is sent (http/https only; by default no private, loopback,
link-local or multicast address), redirects are followed by hand so that every hop is checked
and loops are caught, and bodies are read up to a byte cap (after decompression, so a gzip
bomb stops at the cap too). Failures are sorted into permanent ones (a reject at once) and
transient ones (timeouts, resets, 408, 429, 5xx: retried by the task, honouring Retry-After).
"""

from __future__ import annotations

import email.utils
import hashlib
import ipaddress
import json
import os
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urljoin, urlsplit

import httpx

from schemas.models import RejectReason
from schemas.run import HttpOptions

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
XML_TYPES = frozenset(
    {
        "application/xml",
        "text/xml",
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/x-gzip",
        "application/gzip",
        "application/octet-stream",
    }
)
ARCHIVE_TYPES = frozenset(
    {"application/warc", "application/gzip", "application/x-gzip", "application/octet-stream"}
)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Response:
    """A body that arrived whole."""

    url: str  # after redirects
    content_type: str
    charset: str | None
    body: bytes
    etag: str | None
    last_modified: str | None
    content_language: str | None


@dataclass(frozen=True)
class NotModified:
    """304: the copy from the last run is still current."""

    url: str


@dataclass(frozen=True)
class Failure:
    """A request that gave no usable body; `transient` ones are worth retrying."""

    url: str
    reason: str
    detail: str
    transient: bool = False
    retry_after: float = 0.0


Outcome = Response | NotModified | Failure


def new_client(options: HttpOptions) -> httpx.Client:
    """A client with docpipe's timeouts and User-Agent; redirects are followed by hand."""
    return httpx.Client(
        timeout=httpx.Timeout(options.read_timeout, connect=options.connect_timeout),
        headers={"User-Agent": options.user_agent, "Accept-Encoding": "gzip, deflate, br"},
        follow_redirects=False,
        limits=httpx.Limits(max_connections=options.workers * 2),
    )


def is_url(location: str) -> bool:
    return location.lower().startswith(("http://", "https://"))


def refused(url: str, allow_private_hosts: bool) -> Failure | None:
    """Why `url` must not be requested (a permanent failure), or None when it may."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return Failure(
            url, RejectReason.UNSUPPORTED_SCHEME, f"{parts.scheme or 'no'} scheme: only http(s)"
        )
    if not parts.hostname:
        return Failure(url, RejectReason.INVALID_URL, "URL has no host")
    if allow_private_hosts:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        return Failure(
            url, RejectReason.DNS_ERROR, f"host {parts.hostname} does not resolve: {error}"
        )
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_multicast
            or address.is_reserved
            or address.is_unspecified
        ):
            detail = (
                f"{parts.hostname} resolves to {address}, a non-public address "
                "(allow with --allow-private-hosts)"
            )
            return Failure(url, RejectReason.PRIVATE_ADDRESS, detail)
    return None


def retry_after_seconds(value: str | None) -> float:
    """Seconds a Retry-After header asks for (a number or an HTTP date); 0 when absent."""
    if not value:
        return 0.0
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class HostPacer:
    """Keeps at least `delay` seconds between two requests to the same host, across threads."""

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> None:
        if self._delay <= 0:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + self._delay
        time.sleep(start - now)


def request(
    client: httpx.Client,
    url: str,
    options: HttpOptions,
    *,
    accept: frozenset[str],
    allow_private_hosts: bool,
    max_bytes: int,
    validators: dict[str, str] | None = None,
    pacer: HostPacer | None = None,
    sink: BinaryIO | None = None,
) -> Outcome:
    """GET `url`, following up to `options.max_redirects` redirects; never raises.

    A body over `max_bytes` (decompressed) is a `too_large` failure. With a `sink` the body
    is written there instead of memory.
    """
    seen = [url]
    current = url
    while True:
        refusal = refused(current, allow_private_hosts)
        if refusal is not None:
            return Failure(url, refusal.reason, refusal.detail)
        if pacer is not None:
            pacer.wait(urlsplit(current).hostname or "")
        try:
            outcome = _get(client, current, max_bytes, accept, validators, sink)
        except httpx.TimeoutException as error:
            return Failure(
                url, RejectReason.TIMEOUT, f"{type(error).__name__} from {current}", transient=True
            )
        except httpx.TransportError as error:
            detail = f"{type(error).__name__} from {current}: {error}"
            return Failure(url, RejectReason.CONNECTION_ERROR, detail, transient=True)
        if not isinstance(outcome, str):
            return outcome
        current = urljoin(current, outcome)
        if current in seen:
            return Failure(url, RejectReason.REDIRECT_LOOP, "redirects come back to " + current)
        seen.append(current)
        if len(seen) > options.max_redirects + 1:
            return Failure(
                url, RejectReason.TOO_MANY_REDIRECTS, f"more than {options.max_redirects}"
            )


def _get(
    client: httpx.Client,
    url: str,
    cap: int,
    accept: frozenset[str],
    validators: dict[str, str] | None,
    sink: BinaryIO | None,
) -> Outcome | str:
    """One request: its outcome, or the Location to follow."""
    with client.stream("GET", url, headers=validators or {}) as response:
        status = response.status_code
        if status in _REDIRECTS:
            location: str | None = response.headers.get("location")
            if not location:
                return Failure(
                    url, RejectReason.BAD_REDIRECT, f"HTTP {status} without a Location header"
                )
            return location
        if status == 304:
            return NotModified(url)
        if status in _TRANSIENT_STATUSES:
            return Failure(
                url,
                f"http_{status}",
                f"HTTP {status} {response.reason_phrase}",
                transient=True,
                retry_after=retry_after_seconds(response.headers.get("retry-after")),
            )
        if status != 200:
            return Failure(
                url, RejectReason.http(status), f"HTTP {status} {response.reason_phrase}"
            )
        content_type = response.headers.get("content-type", "")
        media_type = content_type.split(";")[0].strip().lower()
        if media_type and media_type not in accept:
            return Failure(
                url, RejectReason.UNSUPPORTED_CONTENT_TYPE, f"content type is {media_type}"
            )
        declared_length = response.headers.get("content-length", "")
        if declared_length.isdigit() and int(declared_length) > cap:
            return _too_large(url, cap, f"Content-Length is {declared_length}")
        body = bytearray()
        received = 0
        for chunk in response.iter_bytes():
            received += len(chunk)
            if received > cap:
                return _too_large(url, cap, "body")
            if sink is not None:
                sink.write(chunk)
            else:
                body.extend(chunk)
        return Response(
            url=str(response.url),
            content_type=media_type,
            charset=response.charset_encoding,
            body=bytes(body),
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
            content_language=response.headers.get("content-language"),
        )


def _too_large(url: str, cap: int, what: str) -> Failure:
    return Failure(url, RejectReason.TOO_LARGE, f"{what} exceeds the cap of {cap} bytes")


@dataclass(frozen=True)
class CachedPage:
    """What a later run needs to send a conditional request and, on 304, reuse the page."""

    etag: str | None
    last_modified: str | None
    content: str
    content_sha256: str
    content_language: str | None = None  # absent from pages cached before it was kept

    def validators(self) -> dict[str, str]:
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class PageStore:
    """ETag, Last-Modified and decoded page of every URL fetched, one JSON file per URL."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, url: str) -> Path:
        return self.directory / f"{hashlib.sha256(url.encode()).hexdigest()[:32]}.json"

    def get(self, url: str) -> CachedPage | None:
        try:
            data = json.loads(self._path(url).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return CachedPage(**data)

    def put(self, url: str, page: CachedPage) -> None:
        path = self._path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(page.__dict__), encoding="utf-8")
        os.replace(temporary, path)
