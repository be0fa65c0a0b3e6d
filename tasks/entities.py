"""Entities stage: spaCy NER with one model per language, loaded once per process.

Only the components NER needs are loaded (the `ner` of the small models carries its own
tok2vec), which gives the same entities about twice as fast as the full pipeline.
"""

from __future__ import annotations

import importlib.util
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prefect import task

from schemas.models import Batch, DetectedDocument, Document, Entity, Stage
from schemas.run import Limits
from tasks.common import (
    PIPELINE_VERSION,
    STAGE_TASK_OPTIONS,
    log_stage,
    stage_cache_key,
    timed_out,
)
from tasks.entity_names import kind_of, resolve
from tasks.pool import TIMED_OUT, TimedOut, in_processes, worker_pool

if TYPE_CHECKING:
    from spacy.language import Language

_LISTENER = "Tok2VecListener"
_OPENING = {"(": ")", "[": "]", "{": "}"}
_CLOSING = {close: open_ for open_, close in _OPENING.items()}
_TRIM = " \t\n\"'“”‘’,.;:!?-–—"
# Articles before a name, by language: English "The" goes whatever its case ("The China
# Daily"); elsewhere only a lower-case article ("le Rhône"), not one that is part of a name
# ("Le Havre", "Los Angeles").
_LEADING_ARTICLE = {
    "en": re.compile(r"the(?:\s+|$)", re.IGNORECASE),
    "fr": re.compile(r"(?:les?|la)(?:\s+|$)|l['’]"),
    "de": re.compile(r"(?:der|die|das|den|dem|des)(?:\s+|$)"),
    "es": re.compile(r"(?:el|la|los|las)(?:\s+|$)"),
    "it": re.compile(r"(?:il|lo|la|i|gli|le)(?:\s+|$)|l['’]"),
    "pt": re.compile(r"(?:o|a|os|as)(?:\s+|$)"),
    "nl": re.compile(r"(?:de|het)(?:\s+|$)"),
}
_POSSESSIVES = ("'s", "’s")
_PIPE_BATCH = 64
# Long texts go to NER in pieces of this many characters at most (cut at paragraph breaks).
_PIECE_CHARS = 100_000
_CUTS = ("\n\n", ". ", " ")
_load_lock = threading.Lock()


def installed_model(candidates: list[str]) -> str | None:
    """The first of `candidates` that is an installed spaCy package."""
    return next((name for name in candidates if importlib.util.find_spec(name)), None)


def ner_components(package: str) -> list[str]:
    """The components a package's `ner` needs: itself, plus `tok2vec` if it listens to it."""
    from spacy.util import load_config

    config = load_config(_package_config(package))
    ner_tok2vec = config["components"]["ner"]["model"].get("tok2vec", {})
    needs_shared = _LISTENER in str(ner_tok2vec.get("@architectures", ""))
    return ["tok2vec", "ner"] if needs_shared else ["ner"]


def _package_config(package: str) -> Path:
    from spacy.util import get_package_path

    root = get_package_path(package)
    return (
        next(root.glob("*/config.cfg"))
        if not (root / "config.cfg").exists()
        else root / "config.cfg"
    )


@cache
def load_model(package: str) -> Language:
    """Load a model's NER components once per process (threads share the one copy)."""
    with _load_lock:
        keep = set(ner_components(package))
        import spacy  # here, not at import: the flow's own process never needs spaCy

        pipeline = spacy.util.load_config(_package_config(package))["nlp"]["pipeline"]
        return spacy.load(package, exclude=[name for name in pipeline if name not in keep])


def normalise_span(text: str, start: int, end: int, language: str = "en") -> tuple[int, int] | None:
    """Trim an entity span to its name: no leading article (of the text's language),
    possessive or unbalanced bracket.

    "the Shanghai Cooperation Organization (SCO" becomes "Shanghai Cooperation Organization",
    "le Rhône" "Rhône". Returns None when nothing is left.
    """
    leading_article = _LEADING_ARTICLE.get(language)
    previous = None
    while previous != (start, end) and start < end:
        previous = (start, end)
        span = text[start:end]
        stripped = span.lstrip(_TRIM)
        start += len(span) - len(stripped)
        end = start + len(stripped.rstrip(_TRIM))
        span = text[start:end]
        article = leading_article.match(span) if leading_article else None
        if article:
            start += article.end()
        if span.endswith(_POSSESSIVES):
            end -= 2
        if span[:1] in _OPENING and span[-1:] == _OPENING[span[0]]:  # "(SCO)": the name inside
            start, end = start + 1, end - 1
        start, end = _balance_brackets(text, start, end)
    return (start, end) if start < end else None


def _balance_brackets(text: str, start: int, end: int) -> tuple[int, int]:
    """Cut the span at its first unbalanced bracket, keeping the side that has text."""
    stack: list[int] = []
    for position in range(start, end):
        char = text[position]
        if char in _OPENING:
            stack.append(position)
        elif char in _CLOSING:
            if stack and text[stack[-1]] == _CLOSING[char]:
                stack.pop()
            else:  # an unmatched closing bracket: keep what follows it, or what precedes it
                return (
                    (position + 1, end)
                    if text[position + 1 : end].strip(_TRIM)
                    else (start, position)
                )
    if stack:  # an unmatched opening bracket: keep what precedes it, or what follows it
        cut = stack[0]
        return (start, cut) if text[start:cut].strip(_TRIM) else (cut + 1, end)
    return start, end


def _pieces(text: str, max_length: int) -> Iterator[tuple[int, str]]:
    """(offset, piece) of a text cut so that no piece exceeds max_length: at the last
    paragraph break that fits, else the last sentence end, else the last space."""
    offset = 0
    while len(text) - offset > max_length:
        end = offset + max_length
        cut = next(
            (
                found + len(mark)
                for mark in _CUTS
                if (found := text.rfind(mark, offset, end)) > offset
            ),
            end,
        )
        yield offset, text[offset:cut]
        offset = cut
    yield offset, text[offset:]


def find_entities(nlp: Language, texts: list[str], language: str = "en") -> list[list[Entity]]:
    """Entities of each text as the model tags them, offsets into that text; long texts go
    through in pieces."""
    pieces = [
        (index, offset, piece)
        for index, text in enumerate(texts)
        for offset, piece in _pieces(text, nlp.max_length)
    ]
    found: list[list[Entity]] = [[] for _ in texts]
    docs = nlp.pipe((piece for _, _, piece in pieces), batch_size=_PIPE_BATCH)
    for (index, offset, _), doc in zip(pieces, docs, strict=True):
        text = texts[index]
        for ent in doc.ents:
            span = normalise_span(text, offset + ent.start_char, offset + ent.end_char, language)
            if span is not None:
                name = text[span[0] : span[1]]
                found[index].append(
                    Entity(
                        text=name,
                        label=ent.label_,
                        start=span[0],
                        end=span[1],
                        canonical=name,
                        kind=kind_of(ent.label_),
                    )
                )
    return found


def _find_with(package: str, language: str, texts: list[str]) -> list[list[Entity]]:
    return find_entities(load_model(package), texts, language)


def _load(packages: list[str]) -> None:
    for package in packages:
        load_model(package)
    time.sleep(0.5)  # hold this worker so that the next warm-up goes to another one


def warm_up(spacy_models: dict[str, list[str]], processes: int) -> None:
    """Start the NER processes and load the models in each, without waiting for it: the
    loading (seconds) then overlaps fetching, cleaning and language detection."""
    packages = [p for p in (installed_model(n) for n in spacy_models.values()) if p is not None]
    if processes >= 1 and packages:
        for _ in range(processes):
            worker_pool(processes).submit(_load, packages)


def entities_of(
    package: str, language: str, texts: list[str], processes: int, timeout: float
) -> list[list[Entity] | TimedOut]:
    """Entities of each text, shared out over `processes` worker processes in pieces of at
    most `_PIECE_CHARS`, so that one very long text keeps every process busy too."""
    pieces = [
        (index, offset, piece)
        for index, text in enumerate(texts)
        for offset, piece in _pieces(text, _PIECE_CHARS)
    ]
    found = in_processes(
        partial(_find_with, package, language),
        [piece for _, _, piece in pieces],
        processes,
        timeout,
    )
    results: list[list[Entity] | TimedOut] = [[] for _ in texts]
    for (index, offset, _), entities in zip(pieces, found, strict=True):
        so_far = results[index]
        if isinstance(entities, TimedOut) or isinstance(so_far, TimedOut):
            results[index] = TIMED_OUT
            continue
        so_far.extend(
            entity.model_copy(update={"start": entity.start + offset, "end": entity.end + offset})
            for entity in entities
        )
    return results


def extract_batch(
    batch: Batch[DetectedDocument],
    spacy_models: dict[str, list[str]],
    processes: int = 0,
    timeout: float = Limits().stage_timeout_seconds,
) -> Batch[Document]:
    """Add entities to every document, with the model that found them, resolved across the
    document (`tasks.entity_names`); a language with no installed model gets none and
    `ner_model` null. NER runs in `processes` worker
    processes (see `worker_pool`)."""
    by_language: dict[str, list[int]] = {}
    for index, document in enumerate(batch.documents):
        by_language.setdefault(document.language, []).append(index)
    found: dict[int, tuple[str, list[Entity] | TimedOut]] = {}
    for language, indices in by_language.items():
        package = installed_model(spacy_models.get(language, []))
        if package is None:
            continue
        texts = [batch.documents[i].text for i in indices]
        results = entities_of(package, language, texts, processes, timeout)
        found.update((i, (package, result)) for i, result in zip(indices, results, strict=True))
    processed_at = datetime.now(UTC)
    documents = []
    rejects = []
    for index, document in enumerate(batch.documents):
        package, entities = found.get(index, (None, []))
        if isinstance(entities, TimedOut):
            rejects.append(timed_out(document.source, Stage.ENTITIES, timeout))
            continue
        documents.append(
            Document(
                **document.model_dump(),
                entities=resolve(document.text, entities),
                ner_model=package,
                processed_at=processed_at,
                pipeline_version=PIPELINE_VERSION,
            )
        )
    return Batch[Document](name=batch.name, documents=documents, rejects=rejects)


def _installed_packages(parameters: dict[str, Any]) -> dict[str, str | None]:
    """Which package serves each language: installing another model misses the cache."""
    return {lang: installed_model(names) for lang, names in parameters["spacy_models"].items()}


@task(
    name="entities",
    task_run_name="entities {batch.name}",
    cache_key_fn=stage_cache_key(extra=_installed_packages, ignore=("processes",)),
    **STAGE_TASK_OPTIONS,
)
def extract_entities(
    batch: Batch[DetectedDocument],
    spacy_models: dict[str, list[str]],
    processes: int,
    timeout: float,
) -> Batch[Document]:
    extracted = extract_batch(batch, spacy_models, processes, timeout)
    log_stage("entities", extracted)
    return extracted
