"""Links of RSS and Atom feeds, sitemaps and sitemap indexes, so that fetch reads their pages."""

from __future__ import annotations

import zlib

from lxml import etree

# No entities, no network: a feed is untrusted input.
_XML_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)


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
