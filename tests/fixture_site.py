"""A real HTTP server on 127.0.0.1 serving fixture pages, feeds, a WARC file and faults."""

from __future__ import annotations

import contextlib
import gzip
import io
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.data.texts import JAPANESE, KOREAN

ENGLISH_BODY = (
    "The harbour of Busan reopened on Thursday after a week of repairs to the piers. "
    "Fishing boats returned to their moorings by noon, and the ferry to Fukuoka resumed."
)
# Briefs on pages that declare Portuguese: one the text leaves open (Spanish by a little),
# one that is clearly Spanish.
BRIEF = ("2024", "No, creo que no")
SPANISH_BRIEF = ("2024", "Por algo había que empezar")
HUGE_BYTES = 50 * 1024 * 1024
SLOW_SECONDS = 3.0


def article(title: str, body: str, charset: str | None = None, lang: str | None = None) -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in body.split(". ") if sentence)
    html = f'<html lang="{lang}">' if lang else "<html>"
    return (
        f"{html}<head>{meta}<title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{paragraphs}</article>"
        "<footer>Copyright Fixture News</footer></body></html>"
    )


def warc_with_two_pages(base: str) -> bytes:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=True)
    for number in (1, 2):
        html = article(
            f"Archived Story {number}", ENGLISH_BODY.replace("Thursday", f"day {number}")
        )
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
        )
        record = writer.create_warc_record(
            f"{base}/archived-{number}.html",
            "response",
            payload=io.BytesIO(html.encode()),
            http_headers=headers,
        )
        writer.write_record(record)
    return buffer.getvalue()


@dataclass
class FixtureSite:
    """What the server serves and what it saw: hits per path and conditional requests."""

    base: str = ""
    hits: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    most_in_flight: int = 0
    conditional: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>{p}</title><link>{self.url(p)}</link></item>"
            for p in ("/en.html", "/ko.html", "/ja.html")
        )
        return f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()

    def sitemap_index(self) -> bytes:
        return (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{self.url('/sitemap-pages.xml.gz')}</loc></sitemap></sitemapindex>"
        ).encode()

    def sitemap_pages(self) -> bytes:
        paths = [*FAULTS, "/flaky.html", "/limited.html"]
        urls = "".join(f"<url><loc>{self.url(p)}</loc></url>" for p in paths)
        xml = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
        return gzip.compress(xml.encode())


# Paths that end as rejects, with the reason each must get.
FAULT_REASONS = {
    "/missing.html": "http_404",
    "/slow.html": "timeout",
    "/reset.html": "connection_error",
    "/loop-a.html": "redirect_loop",
    "/huge.html": "too_large",
    "/report.pdf": "unsupported_content_type",
}
FAULTS = list(FAULT_REASONS)


def _handler(site: FixtureSite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet test output

        def send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path
            with site.lock:
                site.hits[path] += 1
                hits = site.hits[path]
                if "If-None-Match" in self.headers or "If-Modified-Since" in self.headers:
                    site.conditional[path] += 1
            if path == "/en.html":
                if self.headers.get("If-None-Match") == '"en-v1"':
                    self.send_response(304)
                    self.end_headers()
                    return
                body = article("Busan Harbour Reopens", ENGLISH_BODY).encode()
                self.send(
                    200,
                    body,
                    "text/html; charset=utf-8",
                    ETag='"en-v1"',
                    Last_Modified="Thu, 04 Mar 2021 08:30:00 GMT",
                )
            elif path == "/ko.html":  # charset only in the HTTP header
                body = article("부산항 재개장", KOREAN).encode("euc-kr")
                self.send(200, body, "text/html; charset=euc-kr")
            elif path == "/ja.html":  # charset only in the page's meta tag
                body = article("釜山港が再開", JAPANESE, charset="shift_jis").encode("shift_jis")
                self.send(200, body, "text/html")
            elif path == "/brief-lang.html":  # <html lang="pt">
                self.send(200, article(*BRIEF, lang="pt").encode(), "text/html; charset=utf-8")
            elif path == "/brief-spanish.html":  # <html lang="pt">, text clearly Spanish
                body = article(*SPANISH_BRIEF, lang="pt").encode()
                self.send(200, body, "text/html; charset=utf-8")
            elif path == "/brief-header.html":  # Content-Language: pt
                body = article(*BRIEF).encode()
                self.send(200, body, "text/html; charset=utf-8", Content_Language="pt-BR")
            elif path == "/feed.rss":
                self.send(200, site.feed(), "application/rss+xml")
            elif path == "/sitemap-index.xml":
                self.send(200, site.sitemap_index(), "application/xml")
            elif path == "/sitemap-pages.xml.gz":
                self.send(200, site.sitemap_pages(), "application/x-gzip")
            elif path == "/pages.warc.gz":
                self.send(200, warc_with_two_pages(site.base), "application/warc")
            elif path == "/missing.html":
                self.send(404, b"not here", "text/html")
            elif path == "/flaky.html":  # fails twice, then works
                if hits <= 2:
                    self.send(500, b"oops", "text/html")
                else:
                    self.send(200, article("Flaky Story", ENGLISH_BODY).encode(), "text/html")
            elif path == "/limited.html":  # rate-limited once
                if hits == 1:
                    self.send(429, b"slow down", "text/html", Retry_After="1")
                else:
                    self.send(200, article("Limited Story", ENGLISH_BODY).encode(), "text/html")
            elif path == "/slow.html":
                time.sleep(SLOW_SECONDS)
                self.send(200, article("Slow Story", ENGLISH_BODY).encode(), "text/html")
            elif path == "/reset.html":  # RST instead of a response
                linger = struct.pack("ii", 1, 0)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.connection.close()
                self.close_connection = True
            elif path in ("/loop-a.html", "/loop-b.html"):
                target = "/loop-b.html" if path == "/loop-a.html" else "/loop-a.html"
                self.send(302, b"", "text/html", Location=target)
            elif path == "/huge.html":  # 50 MB, no Content-Length: only reading tells
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                chunk = b"<p>" + b"x" * 65_530 + b"</p>"
                try:
                    for _ in range(HUGE_BYTES // len(chunk)):
                        self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped at its cap
            elif path.startswith("/paced.html"):  # counts requests served at once
                with site.lock:
                    site.in_flight += 1
                    site.most_in_flight = max(site.most_in_flight, site.in_flight)
                time.sleep(0.3)
                with site.lock:
                    site.in_flight -= 1
                self.send(200, article("Paced Story", ENGLISH_BODY).encode(), "text/html")
            elif path == "/report.pdf":
                self.send(200, b"%PDF-1.4 fixture", "application/pdf")
            else:
                self.send(404, b"unknown fixture", "text/html")

        def handle(self) -> None:
            with contextlib.suppress(OSError):  # a client that gave up (timeout, byte cap)
                super().handle()

        def finish(self) -> None:
            with contextlib.suppress(OSError):  # the reset fixture closed the socket itself
                super().finish()

    return Handler


@contextmanager
def serve() -> Iterator[FixtureSite]:
    """Run the fixture site on a free 127.0.0.1 port for the duration of the block."""
    site = FixtureSite()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
