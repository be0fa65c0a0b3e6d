"""The web: expand feed, sitemap and WARC URLs, and download pages with conditional GET.

Pages found unchanged by an HTTP 304 come from the page store of the last run; per-host
Prefect concurrency limits, a delay between requests to one host and the safety checks of
`tasks.http` keep docpipe polite and safe.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency

from schemas.models import RawDocument, RejectReason
from schemas.run import HttpOptions
from tasks.common import doc_id_for
from tasks.http import (
    ARCHIVE_TYPES,
    HTML_TYPES,
    XML_TYPES,
    CachedPage,
    Failure,
    HostPacer,
    NotModified,
    PageStore,
    Response,
    new_client,
    request,
)
from tasks.sources import FetchError, Read, fetch_reject, raw_document
from tasks.sources.decode import decode
from tasks.sources.feeds import feed_links
from tasks.sources.files import file_kind

HOST_LIMIT_PREFIX = "fetch-host-"
_MAX_SITEMAP_DEPTH = 3


@dataclass
class Web:
    """Downloads pages: conditional requests from the page store, politeness, safety."""

    options: HttpOptions
    max_bytes: int
    allow_private_hosts: bool
    store: PageStore
    downloads: Path
    host_limit: Callable[[str], AbstractContextManager[Any]] = lambda host: nullcontext()
    unchanged: set[str] = field(default_factory=set)

    def expand(self, url: str, depth: int = 0) -> list[str]:
        """A feed's or sitemap's page links, a downloaded WARC file's path; any other URL
        (or a failure, which fetch will report) stands for itself."""
        if file_kind(Path(urlsplit(url).path)) == "warc":
            return [self.download(url)]
        with new_client(self.options) as client:
            outcome = request(
                client,
                url,
                self.options,
                accept=HTML_TYPES | XML_TYPES,
                allow_private_hosts=self.allow_private_hosts,
                max_bytes=self.max_bytes,
            )
        found = feed_links(outcome.body, self.max_bytes) if isinstance(outcome, Response) else None
        if found is None:
            return [url]
        kind, links = found
        if kind != "sitemapindex":
            return links
        if depth >= _MAX_SITEMAP_DEPTH:
            return []
        return [page for sitemap in links for page in self.expand(sitemap, depth + 1)]

    def download(self, url: str) -> str:
        """Save a WARC file under the output's `_downloads/`; its path, or the URL on failure."""
        target = self.downloads / f"{hashlib.sha256(url.encode()).hexdigest()[:32]}.warc.gz"
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        with new_client(self.options) as client, partial.open("wb") as sink:
            outcome = request(
                client,
                url,
                self.options,
                accept=ARCHIVE_TYPES,
                allow_private_hosts=self.allow_private_hosts,
                max_bytes=self.options.max_archive_bytes,
                sink=sink,
            )
        if not isinstance(outcome, Response):
            partial.unlink()
            return url  # fetch requests it again and rejects it with the reason
        os.replace(partial, target)
        return str(target)

    def fetch(self, urls: list[str]) -> dict[str, Read | Failure]:
        """Each URL's documents and rejects, or its transient failure (to be retried)."""
        pacer = HostPacer(self.options.host_delay_seconds)
        with new_client(self.options) as client, ThreadPoolExecutor(self.options.workers) as pool:
            results = pool.map(lambda url: self._fetch_one(client, pacer, url), urls)
            return dict(zip(urls, results, strict=True))

    def _fetch_one(self, client: Any, pacer: HostPacer, url: str) -> Read | Failure:
        cached = self.store.get(url)
        with self.host_limit(urlsplit(url).hostname or ""):
            outcome = request(
                client,
                url,
                self.options,
                accept=HTML_TYPES,
                allow_private_hosts=self.allow_private_hosts,
                max_bytes=self.max_bytes,
                validators=cached.validators() if cached else None,
                pacer=pacer,
            )
        if isinstance(outcome, Failure):
            if outcome.transient:
                return outcome
            return [], [fetch_reject(url, outcome.reason, outcome.detail)]
        if isinstance(outcome, NotModified):
            if cached is None:
                return [], [
                    fetch_reject(
                        url, RejectReason.UNEXPECTED_304, "HTTP 304 to an unconditional request"
                    )
                ]
            self.unchanged.add(url)
            document = RawDocument(
                doc_id=doc_id_for(url),
                source=url,
                content_sha256=cached.content_sha256,
                content_type="html",
                content=cached.content,
                declared_language=cached.content_language,
            )
            return [document], []
        try:
            text = decode(outcome.body, html=True, declared=outcome.charset)
        except FetchError as error:
            return [], [fetch_reject(url, error.reason, error.detail)]
        document = raw_document(url, "html", text, outcome.body, outcome.content_language)
        if outcome.etag or outcome.last_modified:
            self.store.put(
                url,
                CachedPage(
                    outcome.etag,
                    outcome.last_modified,
                    text,
                    document.content_sha256,
                    outcome.content_language,
                ),
            )
        return [document], []


def prefect_host_limits() -> Callable[[str], AbstractContextManager[Any]]:
    """Per-host limits: a Prefect global concurrency limit named `fetch-host-<host>`, if any."""
    with get_client(sync_client=True) as client:
        names = {
            limit.name
            for limit in client.read_global_concurrency_limits(limit=200)
            if limit.name.startswith(HOST_LIMIT_PREFIX)
        }

    def host_limit(host: str) -> AbstractContextManager[Any]:
        name = HOST_LIMIT_PREFIX + host
        return concurrency(name, strict=True) if name in names else nullcontext()

    return host_limit
