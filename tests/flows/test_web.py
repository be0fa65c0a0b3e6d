"""Web sources end to end: a feed, a sitemap index, a WARC file and a URL list, with faults.

The fixture site runs on 127.0.0.1 (hence `allow_private_hosts`); the flow runs through a
real Prefect API, so the transient faults are retried by Prefect's task retries.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

from schemas.models import SourceBatch
from schemas.run import HttpOptions, Limits
from tasks.fetch import fetch_batch
from tasks.http import PageStore
from tasks.language import identify
from tasks.sources.web import HOST_LIMIT_PREFIX, Web, prefect_host_limits
from tests.data.texts import JAPANESE, KOREAN
from tests.fixture_site import BRIEF, FAULT_REASONS, FixtureSite
from tests.flows.runs import rows, run, task_states

pytestmark = pytest.mark.usefixtures("prefect_api")

PAGES = ["/en.html", "/ko.html", "/ja.html", "/flaky.html", "/limited.html"]
ARCHIVED = ["/archived-1.html", "/archived-2.html"]


def test_every_url_ends_as_a_document_or_a_reject(site: FixtureSite, tmp_path: Path) -> None:
    url_list = tmp_path / "urls.txt"
    url_list.write_text(f"# pages to fetch\n{site.url('/en.html')}\n")
    sources = [
        site.url("/feed.rss"),
        site.url("/sitemap-index.xml"),
        site.url("/pages.warc.gz"),
        str(url_list),
    ]
    output = tmp_path / "out"
    http = HttpOptions(read_timeout=1.0, connect_timeout=1.0)

    _, first_run = run(sources, output, allow_private_hosts=True, http=http)

    documents = {row["source"]: row for row in rows(output, "documents")}
    rejects = {row["source"]: row["reason"] for row in rows(output, "rejects")}
    assert sorted(documents) == sorted(site.url(p) for p in PAGES + ARCHIVED)
    assert rejects == {site.url(path): reason for path, reason in FAULT_REASONS.items()}
    assert documents[site.url("/en.html")]["title"] == "Busan Harbour Reopens"
    assert KOREAN.split(".")[0] in documents[site.url("/ko.html")]["text"]
    assert JAPANESE.split("。")[0] in documents[site.url("/ja.html")]["text"]
    assert documents[site.url("/ko.html")]["language"] == "ko"
    assert documents[site.url("/archived-2.html")]["title"] == "Archived Story 2"
    assert site.hits["/flaky.html"] == 3  # two HTTP 500s, then a page
    assert site.hits["/limited.html"] == 2  # one 429 with Retry-After, then a page
    assert site.hits["/slow.html"] == 4  # every attempt timed out
    assert site.hits["/missing.html"] == 1  # permanent: never retried
    assert task_states(first_run)["fetch batch-0001"] == ("Completed", 4)

    second, _ = run(sources, output, allow_private_hosts=True, http=http)

    assert site.conditional["/en.html"] >= 1  # ETag sent, 304 received
    summary = second.result()
    assert (summary.documents, summary.unchanged) == (0, len(PAGES + ARCHIVED))
    assert {row["source"]: row for row in rows(output, "documents")} == documents
    assert {row["source"]: row["reason"] for row in rows(output, "rejects")} == rejects


def test_prefect_concurrency_limit_per_host(site: FixtureSite, tmp_path: Path) -> None:
    """`prefect gcl create fetch-host-127.0.0.1 --limit 1` makes requests to it one at a time."""
    urls = [site.url(f"/paced.html?{n}") for n in range(4)]
    web = Web(
        HttpOptions(workers=4),
        Limits().max_document_bytes,
        True,
        PageStore(tmp_path / "_http"),
        tmp_path / "_downloads",
    )
    fetch_batch(SourceBatch(name="b", locations=urls), web, {})
    assert site.most_in_flight > 1  # no limit yet: the four workers overlap

    site.most_in_flight = 0
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=f"{HOST_LIMIT_PREFIX}127.0.0.1", limit=1)
        )
    try:
        web.host_limit = prefect_host_limits()
        batch, pending = fetch_batch(SourceBatch(name="b", locations=urls), web, {})
    finally:
        with get_client(sync_client=True) as client:
            client.delete_global_concurrency_limit_by_name(f"{HOST_LIMIT_PREFIX}127.0.0.1")
    assert (len(batch.documents), pending) == (4, [])
    assert site.most_in_flight == 1


def test_the_language_a_page_declares_decides_a_short_item(
    site: FixtureSite, tmp_path: Path
) -> None:
    """Its HTML `lang` or its Content-Language header: kept as `declared_language`, and the
    hint that settles a brief the text alone leaves open, never one the text contradicts."""
    assert identify("\n\n".join(BRIEF) + ".").language == "es"
    paths = ["/brief-lang.html", "/brief-header.html", "/brief-spanish.html"]
    sources = [site.url(path) for path in paths]
    output = tmp_path / "out"

    run(sources, output, allow_private_hosts=True)

    documents = {row["source"]: row for row in rows(output, "documents")}
    found = {
        path: (row["declared_language"], row["language"], row["language_method"])
        for path, row in ((p.removeprefix(site.base), r) for p, r in documents.items())
    }
    assert found == {
        "/brief-lang.html": ("pt", "pt", "hint"),
        "/brief-header.html": ("pt-BR", "pt", "hint"),
        "/brief-spanish.html": ("pt", "es", "vote"),
    }
