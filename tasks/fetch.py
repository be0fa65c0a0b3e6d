"""Fetch stage: find the inputs, read or download them, decode them into raw documents.

Sources are local files, directories (walked recursively) and globs; `http(s)://` URLs; text
files listing URLs; RSS, Atom and sitemap URLs (their links are fetched); WARC files. Page
dumps (`.txt`), HTML pages (`.html`, `.htm`), JSON Lines (`.jsonl`, one object a line with
`text` or `html`, optional `url` and `id`) and WARC response records are understood. Anything
that cannot be read, downloaded or decoded becomes a reject with its reason.
"""

from __future__ import annotations

import codecs
import glob
import gzip
import hashlib
import json
import os
import re
import stat
import time
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple
from urllib.parse import urlsplit
from uuid import UUID

from charset_normalizer import from_bytes
from lxml import etree
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.concurrency.sync import concurrency
from prefect.context import TaskRunContext
from warcio.archiveiterator import ArchiveIterator

from schemas.models import (
    Batch,
    HttpOptions,
    RawDocument,
    Reject,
    RejectReason,
    SourceBatch,
    Stage,
)
from tasks.common import RETRY_OPTIONS, doc_id_for, log_stage
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
    is_url,
    new_client,
    request,
)
from tasks.layout import known_documents

FileKind = Literal["text", "html", "jsonl", "warc"]
FILE_KINDS: dict[str, FileKind] = {
    ".txt": "text",
    ".html": "html",
    ".htm": "html",
    ".jsonl": "jsonl",
    ".warc": "warc",
    ".warc.gz": "warc",
    # gzipped pages and JSON Lines, decompressed up to the per-document limit
    ".txt.gz": "text",
    ".html.gz": "html",
    ".htm.gz": "html",
    ".jsonl.gz": "jsonl",
}
HOST_LIMIT_PREFIX = "fetch-host-"
_GLOB_CHARS = re.compile(r"[*?\[]")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
# Share of control characters (other than tab and newlines) above which text is not text.
_MAX_CONTROL_SHARE = 0.01
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MAX_SITEMAP_DEPTH = 3
_WESTERN = "cp1252"
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)


class FetchError(Exception):
    """An input that cannot become a raw document; `reason` is its reject code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def file_kind(path: Path) -> FileKind | None:
    name = path.name.lower()
    return next((kind for suffix, kind in FILE_KINDS.items() if name.endswith(suffix)), None)


# --- discovery -------------------------------------------------------------------------


class Discovered(NamedTuple):
    locations: list[str]
    skipped: list[str]  # files in directories with an extension docpipe does not read


def discover(sources: list[str], expand_url: Callable[[str], list[str]]) -> Discovered:
    """Expand sources into a de-duplicated list of locations (file paths and URLs).

    Directories contribute the files with a known extension (hidden ones are not looked at;
    the others are listed as skipped); a file named explicitly is always kept, so an
    unsupported one is rejected rather than ignored; a file whose lines are all URLs is a URL
    list; a URL goes through `expand_url` (feeds and sitemaps become their links). A source
    that matches nothing is kept as it is and rejected by `fetch` as `not_found`.
    """
    found: dict[str, None] = {}
    skipped: list[str] = []
    for source in sources:
        path = Path(source).expanduser()
        matches: list[str]
        if is_url(source):
            matches = expand_url(source)
        elif path.is_dir():
            files, unlisted = _walk(path)
            skipped.extend(str(f.absolute()) for f in files if file_kind(f) is None)
            matches = [str(f.absolute()) for f in files if file_kind(f) is not None]
            matches += [str(d.absolute()) for d in unlisted]  # fetch rejects them, with why
        elif not path.exists() and _GLOB_CHARS.search(source):
            globbed = [Path(m) for m in sorted(glob.glob(str(path), recursive=True))]
            matches = [str(m.absolute()) for m in globbed if m.is_file()] or [str(path)]
        else:
            matches = read_url_list(path) or [str(path.absolute())]
        found.update(dict.fromkeys(matches))
    return Discovered(list(found), skipped)


def _walk(directory: Path) -> tuple[list[Path], list[Path]]:
    """Every non-hidden file below `directory`, in a stable order, and the directories that
    could not be listed (os.walk would pass over them in silence)."""
    files: list[Path] = []
    unlisted: list[Path] = []
    for root, dirs, names in os.walk(
        directory, onerror=lambda e: unlisted.append(Path(e.filename))
    ):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files.extend(Path(root) / name for name in sorted(names) if not name.startswith("."))
    return files, unlisted


def read_url_list(path: Path) -> list[str]:
    """The URLs of a text file holding one URL a line (`#` comments), else []."""
    if not path.is_file() or file_kind(path) != "text":
        return []
    try:
        with path.open(encoding="utf-8") as lines:
            head = [line.strip() for _, line in zip(range(50), lines, strict=False)]
            rest = [line.strip() for line in lines] if head else []
    except (OSError, UnicodeDecodeError):
        return []  # fetch reads it as a page and says what is wrong
    entries = [line for line in head + rest if line and not line.startswith("#")]
    return entries if entries and all(is_url(e) and " " not in e for e in entries) else []


def feed_links(body: bytes, max_bytes: int) -> tuple[str, list[str]] | None:
    """(kind, links) of an RSS/Atom feed, sitemap or sitemap index (gzipped or not), else None."""
    if body.startswith(b"\x1f\x8b"):
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        body = inflater.decompress(body, max_bytes)
    try:
        root = etree.fromstring(body, parser=_XML_PARSER)
    except etree.XMLSyntaxError:
        return None
    if root is None:
        return None
    kind = etree.QName(root).localname.lower()
    paths = {
        "rss": "//*[local-name()='item']/*[local-name()='link']/text()",
        "rdf": "//*[local-name()='item']/*[local-name()='link']/text()",
        "feed": "//*[local-name()='entry']/*[local-name()='link']"
        "[not(@rel) or @rel='alternate']/@href",
        "urlset": "//*[local-name()='url']/*[local-name()='loc']/text()",
        "sitemapindex": "//*[local-name()='sitemap']/*[local-name()='loc']/text()",
    }
    if kind not in paths:
        return None
    links = [str(link).strip() for link in root.xpath(paths[kind])]
    return kind, [link for link in links if link]


# --- decoding --------------------------------------------------------------------------


def decode(data: bytes, *, html: bool, declared: str | None = None) -> str:
    """Decode bytes: a BOM, the declared (HTTP) charset, the page's meta charset, strict
    UTF-8, and last detection (charset-normalizer), in that order."""
    for bom, bom_encoding in _BOMS:
        if data.startswith(bom):
            return _checked(data.decode(bom_encoding, errors="strict"))
    if b"\x00" in data:
        raise FetchError(RejectReason.BINARY, "contains NUL bytes: not a text or HTML file")
    meta = _META_CHARSET.search(data[:4096]) if html else None
    candidates = [declared, meta.group(1).decode("ascii") if meta else None, "utf-8"]
    for encoding in candidates:
        if encoding:
            try:
                return _checked(data.decode(encoding, errors="strict"))
            except (LookupError, UnicodeDecodeError):
                pass  # a wrong or unknown declaration: the next candidate decides
    mixed = _mixed_with_utf8(data)
    if mixed is not None:
        return _checked(mixed)
    best = from_bytes(data).best()
    if best is None:
        raise FetchError(RejectReason.UNDECODABLE, "bytes match no known text encoding")
    return _checked(str(best))


def _mixed_with_utf8(data: bytes) -> str | None:
    """Text whose lines are UTF-8 except some in a legacy encoding (pasted from elsewhere):
    the UTF-8 lines as they are, the others in the encoding detected for them. None when no
    line shows UTF-8 beyond ASCII (then the file is one legacy encoding, for detection)."""
    lines = data.splitlines(keepends=True)
    decoded: list[str | None] = []
    for line in lines:
        try:
            decoded.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            decoded.append(None)
    if not any(text is not None and not text.isascii() for text in decoded):
        return None
    legacy = [line for line, text in zip(lines, decoded, strict=True) if text is None]
    matches = list(from_bytes(b"".join(legacy)))
    least = min((match.chaos for match in matches), default=0.0)
    cleanest = [match.encoding for match in matches if match.chaos == least]
    # Short snippets fit several code pages equally well: Windows-1252 is the common one.
    encoding = _WESTERN if _WESTERN in cleanest else next(iter(cleanest), "utf-8")
    return "".join(
        text if text is not None else line.decode(encoding, errors="replace")
        for line, text in zip(lines, decoded, strict=True)
    )


def _checked(text: str) -> str:
    if len(_CONTROL.findall(text)) > _MAX_CONTROL_SHARE * max(len(text), 1):
        raise FetchError(RejectReason.BINARY, "mostly control characters: not a text or HTML file")
    return text


def _raw(
    source: str, content_type: Literal["text", "html"], content: str, data: bytes
) -> RawDocument:
    return RawDocument(
        doc_id=doc_id_for(source),
        source=source,
        content_sha256=hashlib.sha256(data).hexdigest(),
        content_type=content_type,
        content=content,
    )


def _reject(source: str, reason: str, detail: str) -> Reject:
    return Reject(source=source, stage=Stage.FETCH, reason=reason, detail=detail)


# --- local files -----------------------------------------------------------------------

Read = tuple[list[RawDocument], list[Reject]]


def _read_jsonl(path: Path, max_bytes: int) -> Read:
    """One document per line holding a JSON object with `text` or `html` (and optionally
    `url` or `id`, which name its source); every other non-blank line is a reject."""
    documents: list[RawDocument] = []
    rejects: list[Reject] = []
    with gzip.open(path) if _gzipped(path) else path.open("rb") as stream:
        for number, raw_line in enumerate(_lines(stream.readline, max_bytes), start=1):
            line_source = f"{path.as_uri()}#L{number}"
            if raw_line is None:
                detail = f"line is longer than {max_bytes} bytes (the per-document limit)"
                rejects.append(_reject(line_source, RejectReason.TOO_LARGE, detail))
                continue
            if number == 1:
                raw_line = raw_line.removeprefix(codecs.BOM_UTF8)
            if not raw_line.strip():
                continue
            try:
                record: Any = json.loads(raw_line)
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                rejects.append(
                    _reject(line_source, RejectReason.INVALID_JSONL, f"line is not JSON: {error}")
                )
                continue
            body = record.get("html") or record.get("text") if isinstance(record, dict) else None
            if not isinstance(body, str) or not body.strip():
                detail = "JSON object has no non-empty text or html"
                rejects.append(_reject(line_source, RejectReason.MISSING_TEXT, detail))
                continue
            source = str(
                record.get("url")
                or (f"{path.as_uri()}#{record['id']}" if "id" in record else line_source)
            )
            content_type: Literal["text", "html"] = "html" if record.get("html") else "text"
            documents.append(_raw(source, content_type, body, raw_line))
    if not documents and not rejects:
        raise FetchError(RejectReason.EMPTY, "file has no lines")
    return documents, rejects


def _lines(readline: Callable[[int], bytes], max_bytes: int) -> Iterator[bytes | None]:
    """A stream's lines; None for a line over `max_bytes` (skipped without holding it)."""
    while True:
        line = readline(max_bytes + 1)
        if not line:
            return
        if len(line) > max_bytes and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = readline(max_bytes + 1)
            yield None
            continue
        yield line


def _read_warc(path: Path, max_bytes: int) -> Read:
    """HTML response records of a WARC (or WARC.gz) file, as Common Crawl publishes them."""
    documents: list[RawDocument] = []
    rejects: list[Reject] = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            source = record.rec_headers.get_header("WARC-Target-URI") or path.as_uri()
            content_type = record.http_headers.get_header("Content-Type") or ""
            media_type = content_type.split(";")[0].strip().lower()
            if media_type not in HTML_TYPES:
                rejects.append(
                    _reject(source, RejectReason.UNSUPPORTED_CONTENT_TYPE, media_type or "none")
                )
                continue
            body = record.content_stream().read(max_bytes + 1)
            if len(body) > max_bytes:
                rejects.append(
                    _reject(source, RejectReason.TOO_LARGE, f"record exceeds {max_bytes} bytes")
                )
                continue
            charset = re.search(r"charset=([\w.:-]+)", content_type)
            try:
                text = decode(body, html=True, declared=charset.group(1) if charset else None)
            except FetchError as error:
                rejects.append(_reject(source, error.reason, error.detail))
                continue
            documents.append(_raw(source, "html", text, body))
    return documents, rejects


def read_file(location: str, max_bytes: int) -> Read:
    """Read one file into raw documents (several for JSON Lines and WARC) and rejects."""
    path = Path(location)
    source = path.as_uri()
    kind = file_kind(path)
    try:
        _check_regular_file(path)
        if kind is None:
            known = ", ".join(FILE_KINDS)
            raise FetchError(RejectReason.UNSUPPORTED_TYPE, f"{path.name} is not one of {known}")
        if kind == "warc":
            return _read_warc(path, max_bytes)
        if kind == "jsonl":
            return _read_jsonl(path, max_bytes)
        data = _read_capped(path, max_bytes)
        if not data.strip():
            raise FetchError(RejectReason.EMPTY, "file is empty")
        return [_raw(source, kind, decode(data, html=kind == "html"), data)], []
    except FetchError as error:
        return [], [_reject(source, error.reason, error.detail)]
    except (OSError, EOFError, zlib.error) as error:  # a damaged archive or compressed file
        return [], [_reject(source, RejectReason.UNREADABLE, f"{type(error).__name__}: {error}")]


def _check_regular_file(path: Path) -> None:
    """Refuse what is not a readable regular file, saying why (not found, a broken or
    looping link, a directory that cannot be listed, a device or pipe)."""
    try:
        info = path.stat()
    except FileNotFoundError as error:
        if path.is_symlink():
            raise FetchError(
                RejectReason.NOT_FOUND, f"broken symbolic link to {os.readlink(path)}"
            ) from error
        raise FetchError(
            RejectReason.NOT_FOUND, f"no such file, directory or glob match: {path}"
        ) from error
    except OSError as error:  # ELOOP: a symbolic link loop; EACCES: a directory on the way
        raise FetchError(
            RejectReason.UNREADABLE, f"cannot read file: {error.strerror or error}"
        ) from error
    if stat.S_ISDIR(info.st_mode):
        try:
            os.listdir(path)
        except OSError as error:
            detail = f"cannot list directory: {error.strerror or error}"
            raise FetchError(RejectReason.UNREADABLE, detail) from error
        raise FetchError(RejectReason.UNSUPPORTED_TYPE, "a directory, not a file")
    if not stat.S_ISREG(info.st_mode):
        raise FetchError(
            RejectReason.UNSUPPORTED_TYPE, "not a regular file (a device, pipe or socket)"
        )


def _gzipped(path: Path) -> bool:
    return path.name.lower().endswith(".gz")


def _read_capped(path: Path, max_bytes: int) -> bytes:
    """The file's bytes, decompressed if it is gzipped, refusing more than `max_bytes`: a
    gzip bomb stops at the cap instead of filling memory."""
    with gzip.open(path) if _gzipped(path) else path.open("rb") as stream:
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        what = "decompresses to" if _gzipped(path) else "is"
        detail = f"{path.name} {what} more than {max_bytes} bytes (the per-document limit)"
        raise FetchError(RejectReason.TOO_LARGE, detail)
    return data


# --- the web ---------------------------------------------------------------------------


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
            return [], [_reject(url, outcome.reason, outcome.detail)]
        if isinstance(outcome, NotModified):
            if cached is None:
                return [], [
                    _reject(
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
            )
            return [document], []
        try:
            text = decode(outcome.body, html=True, declared=outcome.charset)
        except FetchError as error:
            return [], [_reject(url, error.reason, error.detail)]
        document = _raw(url, "html", text, outcome.body)
        if outcome.etag or outcome.last_modified:
            self.store.put(
                url,
                CachedPage(outcome.etag, outcome.last_modified, text, document.content_sha256),
            )
        return [document], []


# --- the batch -------------------------------------------------------------------------


def fetch_batch(
    batch: SourceBatch, web: Web, done: dict[str, Read]
) -> tuple[Batch[RawDocument], list[Failure]]:
    """Read every location not yet in `done` (which it fills in); returns the batch of what
    is done and the transient failures still to retry. A source seen twice is kept once."""
    urls = [loc for loc in batch.locations if loc not in done and is_url(loc)]
    for location in batch.locations:
        if location not in done and not is_url(location):
            done[location] = read_file(location, web.max_bytes)
    pending: list[Failure] = []
    for url, result in (web.fetch(urls) if urls else {}).items():
        if isinstance(result, Failure):
            pending.append(result)
        else:
            done[url] = result
    return _assemble(batch, done), pending


def _assemble(batch: SourceBatch, done: dict[str, Read]) -> Batch[RawDocument]:
    documents: list[RawDocument] = []
    rejects: list[Reject] = []
    seen: set[str] = set()
    for location in batch.locations:
        read, failed = done.get(location, ([], []))
        rejects.extend(failed)
        for document in read:
            if document.doc_id in seen:
                rejects.append(
                    _reject(
                        document.source,
                        RejectReason.DUPLICATE_SOURCE,
                        "source appears more than once",
                    )
                )
            else:
                seen.add(document.doc_id)
                documents.append(document)
    return Batch[RawDocument](name=batch.name, documents=documents, rejects=rejects)


def drop_known(batch: Batch[RawDocument], known: dict[str, str]) -> Batch[RawDocument]:
    """Move the documents already in the output with the same content to `unchanged`."""
    fresh = [d for d in batch.documents if known.get(d.doc_id) != d.content_sha256]
    same = [d.source for d in batch.documents if known.get(d.doc_id) == d.content_sha256]
    return Batch[RawDocument](
        name=batch.name, documents=fresh, rejects=batch.rejects, unchanged=[*batch.unchanged, *same]
    )


def _gave_up(failure: Failure, attempts: int) -> Reject:
    return _reject(failure.url, failure.reason, f"{failure.detail} (after {attempts} attempts)")


# --- Prefect tasks ---------------------------------------------------------------------


class TransientFetchError(Exception):
    """Some URLs of the batch failed transiently: Prefect retries the task for them."""


# Finished locations of a task run, kept across its retries so that only the URLs that
# failed transiently are requested again.
_done_by_task_run: dict[UUID, dict[str, Read]] = {}


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


def _web(http: HttpOptions, max_bytes: int, allow_private_hosts: bool, output: Path) -> Web:
    return Web(
        http,
        max_bytes,
        allow_private_hosts,
        PageStore(output / "_http"),
        output / "_downloads",
        prefect_host_limits(),
    )


@task(name="discover", task_run_name="discover {sources}", retries=2, retry_delay_seconds=1)
def discover_sources(
    sources: list[str],
    http: HttpOptions,
    max_document_bytes: int,
    allow_private_hosts: bool,
    output: Path,
) -> list[str]:
    web = _web(http, max_document_bytes, allow_private_hosts, output)
    locations, skipped = discover(sources, web.expand)
    logger = get_run_logger()
    logger.info("discovered %d inputs in %d sources", len(locations), len(sources))
    if skipped:
        logger.warning(
            "skipped %d files in the source directories whose extension is not one of %s: %s",
            len(skipped),
            ", ".join(FILE_KINDS),
            ", ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else ""),
        )
    return locations


@task(
    name="fetch",
    task_run_name="fetch {batch.name}",
    # Never cached: fetch reads the world, which changes; what it found decides the rest.
    cache_policy=NO_CACHE,
    **RETRY_OPTIONS,
)
def fetch_documents(
    batch: SourceBatch,
    http: HttpOptions,
    max_document_bytes: int,
    allow_private_hosts: bool,
    output: Path,
) -> Batch[RawDocument]:
    context = TaskRunContext.get()
    assert context is not None and context.task_run is not None
    done = _done_by_task_run.setdefault(context.task_run.id, {})
    web = _web(http, max_document_bytes, allow_private_hosts, output)
    fetched, pending = fetch_batch(batch, web, done)
    attempts = context.task_run.run_count
    if pending and attempts <= context.task.retries:
        wait = min(max(f.retry_after for f in pending), http.max_retry_after_seconds)
        time.sleep(wait)  # Retry-After, on top of the task's own backoff
        raise TransientFetchError(
            f"{len(pending)} URLs failed transiently, retrying them: "
            + "; ".join(f"{f.url}: {f.detail}" for f in pending[:5])
        )
    _done_by_task_run.pop(context.task_run.id, None)
    fetched = Batch[RawDocument](
        name=fetched.name,
        documents=fetched.documents,
        rejects=[*fetched.rejects, *(_gave_up(f, attempts) for f in pending)],
    )
    fetched = drop_known(fetched, known_documents(output, str(context.task_run.flow_run_id)))
    if fetched.unchanged:
        get_run_logger().info(
            "fetch %s: %d documents unchanged since an earlier run (%d by HTTP 304), skipped",
            batch.name,
            len(fetched.unchanged),
            len(web.unchanged),
        )
    log_stage("fetch", fetched)
    return fetched
