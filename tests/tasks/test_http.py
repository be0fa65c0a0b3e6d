"""HTTP outcomes against a real server on 127.0.0.1: pages, charsets, every fault."""

from __future__ import annotations

import pytest

from schemas.run import HttpOptions, Limits
from tasks.http import (
    HTML_TYPES,
    XML_TYPES,
    Failure,
    HostPacer,
    NotModified,
    Response,
    new_client,
    request,
    retry_after_seconds,
)
from tasks.sources.decode import decode
from tasks.sources.feeds import feed_links
from tests.data.texts import JAPANESE, KOREAN
from tests.fixture_site import FixtureSite

OPTIONS = HttpOptions(read_timeout=1.0, connect_timeout=1.0)
MAX_BYTES = Limits().max_document_bytes


def get(site: FixtureSite, path: str, **kwargs: object) -> Response | NotModified | Failure:
    with new_client(OPTIONS) as client:
        return request(
            client,
            site.url(path),
            OPTIONS,
            accept=HTML_TYPES | XML_TYPES,
            allow_private_hosts=True,
            max_bytes=MAX_BYTES,
            **kwargs,  # type: ignore[arg-type]
        )


@pytest.mark.parametrize(
    ("path", "reason", "transient"),
    [
        ("/missing.html", "http_404", False),
        ("/flaky.html", "http_500", True),
        ("/limited.html", "http_429", True),
        ("/slow.html", "timeout", True),
        ("/reset.html", "connection_error", True),
        ("/loop-a.html", "redirect_loop", False),
        ("/huge.html", "too_large", False),
        ("/report.pdf", "unsupported_content_type", False),
    ],
)
def test_faults_are_sorted_into_permanent_and_transient(
    site: FixtureSite, path: str, reason: str, transient: bool
) -> None:
    outcome = get(site, path)
    assert isinstance(outcome, Failure)
    assert (outcome.reason, outcome.transient) == (reason, transient), outcome.detail


def test_retry_after_is_read(site: FixtureSite) -> None:
    outcome = get(site, "/limited.html")
    assert isinstance(outcome, Failure) and outcome.retry_after == 1.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert retry_after_seconds(None) == 0.0


def test_page_with_validators_then_not_modified(site: FixtureSite) -> None:
    page = get(site, "/en.html")
    assert isinstance(page, Response)
    assert page.etag == '"en-v1"' and page.charset == "utf-8"
    assert isinstance(get(site, "/en.html", validators={"If-None-Match": '"en-v1"'}), NotModified)
    assert site.conditional["/en.html"] == 1


@pytest.mark.parametrize(("path", "text"), [("/ko.html", KOREAN), ("/ja.html", JAPANESE)])
def test_charset_from_header_or_meta(site: FixtureSite, path: str, text: str) -> None:
    page = get(site, path)
    assert isinstance(page, Response)
    assert text.split("。")[0].split(".")[0] in decode(page.body, html=True, declared=page.charset)


def test_private_addresses_are_refused_unless_allowed(site: FixtureSite) -> None:
    with new_client(OPTIONS) as client:
        outcome = request(
            client,
            site.url("/en.html"),
            OPTIONS,
            accept=HTML_TYPES,
            allow_private_hosts=False,
            max_bytes=MAX_BYTES,
        )
        assert isinstance(outcome, Failure)
        assert (outcome.reason, outcome.transient) == ("private_address", False)
        assert "--allow-private-hosts" in outcome.detail
        ftp = request(
            client,
            "ftp://127.0.0.1/x",
            OPTIONS,
            accept=HTML_TYPES,
            allow_private_hosts=True,
            max_bytes=MAX_BYTES,
        )
        assert isinstance(ftp, Failure) and ftp.reason == "unsupported_scheme"
    assert site.hits["/en.html"] == 0


def test_feed_and_sitemap_links(site: FixtureSite) -> None:
    feed = get(site, "/feed.rss")
    index = get(site, "/sitemap-index.xml")
    pages = get(site, "/sitemap-pages.xml.gz")
    assert (
        isinstance(feed, Response) and isinstance(index, Response) and isinstance(pages, Response)
    )
    assert feed_links(feed.body, 10**6) == (
        "rss",
        [site.url("/en.html"), site.url("/ko.html"), site.url("/ja.html")],
    )
    assert feed_links(index.body, 10**6) == ("sitemapindex", [site.url("/sitemap-pages.xml.gz")])
    kind, links = feed_links(pages.body, 10**6) or ("", [])
    assert kind == "urlset" and site.url("/flaky.html") in links
    atom = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><link rel="alternate" '
        b'href="https://example.org/a"/><link rel="edit" href="https://example.org/e"/></entry></feed>'
    )
    assert feed_links(atom, 10**6) == ("feed", ["https://example.org/a"])
    assert feed_links(b"<html><body>not a feed</body></html>", 10**6) is None


def test_host_pacer_spaces_requests_to_one_host() -> None:
    import time

    pacer = HostPacer(0.2)
    start = time.monotonic()
    for _ in range(3):
        pacer.wait("example.org")
    pacer.wait("other.example")
    assert time.monotonic() - start >= 0.4


def test_client_sends_user_agent_and_accepts_compression() -> None:
    client = new_client(OPTIONS)
    assert client.headers["User-Agent"].startswith("docpipe/")
    assert "br" in client.headers["Accept-Encoding"]
