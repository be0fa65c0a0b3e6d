"""Furniture learned from the site itself: text that recurs on many pages of one site.

A crawl brings many pages of a site; its navigation, promotions and sign-offs repeat on all of
them while the articles do not. A unit of text (a line of a page dump, a block of an HTML
page's extracted text) is the site's furniture when it appears on at least `MIN_PAGES` pages
AND on at least `MIN_SHARE` of the site's pages seen (at least `MIN_SITE_PAGES` of them), in
this batch and in the output's memory of earlier runs. No rule names it and any language
works. Two articles quoting the same sentence never make it furniture (`MIN_PAGES` is three),
and learned furniture never empties a page: a page made only of recurring text (a copy of
another) is kept whole.

The memory (`OUT/_state/sites/<site key>/`) keeps the unit fingerprints of the newest
`MEMORY_PAGES` pages of each site, one file per batch that cleaned pages of the site; the
run's finalize folds each site's files into one. A later run on one new page of the site
removes what earlier runs learned.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.arrow import SITE_PAGES_SCHEMA
from schemas.models import SitePage
from tasks.layout import PART_SUFFIX, STATE, TEMPORARY_SUFFIX, write_atomically

MIN_PAGES = 3
MIN_SITE_PAGES = 8  # fewer pages seen of a site tell furniture from coincidence too rarely
MIN_SHARE = 0.5
MEMORY_PAGES = 200
SITES = "sites"  # under the output's _state/

# doc_id -> fingerprints of its units, for the pages of one site.
Pages = Mapping[str, frozenset[int]]


def site_of(source: str) -> str:
    """The site a source belongs to: its host (without `www.`) for web sources, else the
    folder holding the file (a crawl saved to disk keeps a site's pages together)."""
    parts = urlsplit(source)
    if parts.scheme in ("http", "https") and parts.hostname:
        return parts.hostname.lower().removeprefix("www.")
    path = parts.path if parts.scheme == "file" else source
    return f"file://{os.path.dirname(path)}"


def site_batches(locations: list[str], size: int) -> list[list[str]]:
    """`locations` in batches of `size`, a site's pages side by side. Where the run holds
    enough pages of a site to learn from, a batch takes up to `MIN_SITE_PAGES` - 1 pages more
    rather than leave the next batch a remainder of the site too small to learn from: batches
    of one run do not wait for each other's memory."""
    ordered = sorted(locations, key=site_of)
    sites = [site_of(location) for location in ordered]
    pages_of = Counter(sites)
    batches: list[list[str]] = []
    start = 0
    while start < len(ordered):
        end = min(start + size, len(ordered))
        rest = end
        while rest < len(ordered) and sites[rest] == sites[end - 1]:
            rest += 1
        if rest - end < MIN_SITE_PAGES <= pages_of[sites[end - 1]]:
            end = rest
        batches.append(ordered[start:end])
        start = end
    return batches


def fingerprint(unit: str) -> int:
    """A 63-bit fingerprint of a unit of text, blind to case and spacing."""
    folded = " ".join(unit.casefold().split())
    return int.from_bytes(hashlib.blake2b(folded.encode(), digest_size=8).digest()) >> 1


def fingerprints(units: Iterable[str]) -> frozenset[int]:
    return frozenset(fingerprint(unit) for unit in units if unit.strip())


def learned_furniture(pages: Iterable[frozenset[int]]) -> frozenset[int]:
    """The fingerprints on at least `MIN_PAGES` pages and `MIN_SHARE` of all `pages`; none
    while fewer than `MIN_SITE_PAGES` pages are known."""
    counts: Counter[int] = Counter()
    total = 0
    for units in pages:
        counts.update(units)
        total += 1
    if total < MIN_SITE_PAGES:
        return frozenset()
    floor = max(MIN_PAGES, MIN_SHARE * total)
    return frozenset(unit for unit, pages_with_it in counts.items() if pages_with_it >= floor)


def without_furniture(units: list[str], furniture: frozenset[int]) -> list[str]:
    """`units` less the learned furniture, unless that would leave nothing."""
    kept = [unit for unit in units if fingerprint(unit) not in furniture]
    return kept if kept else units


def site_furniture(
    batch_pages: Mapping[str, Pages], memory: Mapping[str, Pages]
) -> dict[str, frozenset[int]]:
    """Each site's furniture from its pages in this batch and in the memory of earlier runs
    (a page re-processed now counts once, as it is now)."""
    return {
        site: learned_furniture(
            [*pages.values(), *(u for d, u in memory.get(site, {}).items() if d not in pages)]
        )
        for site, pages in batch_pages.items()
    }


def site_pages(pages: Mapping[str, Pages]) -> list[SitePage]:
    return [
        SitePage(site=site, doc_id=doc_id, units=sorted(units))
        for site, by_doc in sorted(pages.items())
        for doc_id, units in sorted(by_doc.items())
    ]


def _site_folder(output: Path, site: str) -> Path:
    return output / STATE / SITES / hashlib.sha256(site.encode()).hexdigest()[:16]


def _files_newest_first(folder: Path) -> list[Path]:
    files = list(folder.glob(f"*{PART_SUFFIX}")) if folder.is_dir() else []
    return sorted(files, key=lambda p: (-p.stat().st_mtime_ns, p.name))


def read_memory(output: Path, sites: Iterable[str]) -> dict[str, dict[str, frozenset[int]]]:
    """The remembered pages of each of `sites`: the newest `MEMORY_PAGES`."""
    memory: dict[str, dict[str, frozenset[int]]] = {}
    for site in sorted(set(sites)):
        pages: dict[str, frozenset[int]] = {}
        for path in _files_newest_first(_site_folder(output, site)):
            if len(pages) >= MEMORY_PAGES:
                break  # older files hold nothing that is kept
            table = pq.read_table(path, columns=["doc_id", "units"])
            for doc_id, units in zip(
                table["doc_id"].to_pylist(), table["units"].to_pylist(), strict=True
            ):
                if len(pages) < MEMORY_PAGES:
                    pages.setdefault(doc_id, frozenset(units))
        memory[site] = pages
    return memory


def _write(pages: list[SitePage], folder: Path) -> Path:
    """Write `pages` to a file named by their content; its path."""
    rows = [page.model_dump() for page in pages]
    path = folder / f"{hashlib.sha256(repr(rows).encode()).hexdigest()[:20]}{PART_SUFFIX}"
    folder.mkdir(parents=True, exist_ok=True)
    write_atomically(pa.Table.from_pylist(rows, schema=SITE_PAGES_SCHEMA), path)
    return path


def remember(output: Path, pages: list[SitePage]) -> None:
    """Add a batch's pages to the memory of their sites (one new file per site)."""
    by_site: dict[str, list[SitePage]] = {}
    for page in pages:
        by_site.setdefault(page.site, []).append(page)
    for site, pages_of_site in by_site.items():
        _write(pages_of_site, _site_folder(output, site))  # a new file: the site's newest


def fold_memory(output: Path) -> int:
    """Fold each site's memory files into one that holds its newest `MEMORY_PAGES` pages
    (written before the old files go: a crash leaves pages twice, never none) and remove
    temporary files. Returns the number of sites folded."""
    folded = 0
    root = output / STATE / SITES
    for folder in sorted(root.iterdir()) if root.is_dir() else []:
        for leftover in folder.glob(f"*{TEMPORARY_SUFFIX}"):
            leftover.unlink()
        files = _files_newest_first(folder)
        if len(files) < 2:
            continue
        site = pq.read_table(files[0], columns=["site"])["site"][0].as_py()
        memory = read_memory(output, [site])
        kept = _write(site_pages(memory), folder)
        for path in files:
            if path != kept:
                path.unlink()
        folded += 1
    return folded
