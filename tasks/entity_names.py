"""One name per thing within a document: every mention tagged, one label per name, and a
canonical name that links short forms to the full one.

The small spaCy models tag each mention on its own: "Shanghai Cooperation Organization (SCO)"
and a later "SCO" come out unrelated, one "SCO" of three is missed, "Whitby" is a place in one
sentence and an organisation in the next. Reading the document as a whole mends that:

1. Every place a name the model tagged appears again (as a whole word, outside other
   entities) is a mention too, if it is more than one word, an acronym, or tagged twice; so
   is an acronym defined in brackets after a name.
2. A name's label is the one most of its mentions carry; on a tie (one mention a person, one
   an organisation) each mention keeps the model's label: nothing says which is right.
3. A mention's `canonical` is its full name: an acronym defined in brackets, or one of three
   letters or more built from the initials of exactly one longer name that is no person's
   ("WHO" of "World Health Organization"); a person's surname or last names when exactly one
   longer person's name ends with them ("Rushailo" of "Vladimir Rushailo"); any other name
   is its own canonical. A short form takes its full name's label.

Values (dates, numbers, amounts) are kept as the model found them; `kind` tells them apart.
"""

from __future__ import annotations

import re
from collections import Counter

from schemas.models import Entity, EntityKind

VALUE_LABELS = frozenset({"DATE", "TIME", "MONEY", "PERCENT", "QUANTITY", "ORDINAL", "CARDINAL"})
PERSON_LABELS = frozenset({"PERSON", "PER"})  # the English and the French models' labels
# Words an acronym skips: "Organisation of the Islamic Cooperation", "Banque de France".
_SMALL_WORDS = frozenset({
    "of", "and", "for", "the", "in", "on", "at", "to",  # English
    "de", "du", "des", "la", "le", "les", "et",  # French
    "di", "del", "della", "y", "e", "da", "do", "dos", "das",  # Italian, Spanish, Portuguese
})  # fmt: skip
_ACRONYM = r"[A-Z][A-Z0-9&.\-]{1,9}"
_DEFINED = re.compile(rf"\s*[(\[]\s*({_ACRONYM})\s*[)\]]")
_WORD = re.compile(r"[\w'’.\-]+")
_OPENERS = " \t\"“‘'(["


def _whole_word(surface: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(surface)}(?!\w)")


def _starts_sentence(text: str, position: int) -> bool:
    """Whether a sentence begins at `position`: after the text's start, an end mark or a line
    break, and any spaces, quotes or brackets."""
    before = text[max(0, position - 20) : position].rstrip(_OPENERS)
    return not before or before[-1] in ".!?\n"


def kind_of(label: str) -> EntityKind:
    return EntityKind.VALUE if label in VALUE_LABELS else EntityKind.NAME


def resolve(text: str, entities: list[Entity]) -> list[Entity]:
    """The document's entities, in text order: every mention of a tagged name, each with its
    document-wide label, its `canonical` name and its `kind`."""
    names = [entity for entity in entities if kind_of(entity.label) is EntityKind.NAME]
    values = [entity for entity in entities if kind_of(entity.label) is EntityKind.VALUE]
    defined = _acronyms_defined(text, names)
    spans = [(entity.start, entity.end) for entity in entities]
    untagged = [acronym for acronym in defined if not _overlaps(acronym, spans)]
    label, tied = _labels([*names, *untagged])
    names = [*names, *untagged]
    names += _mentions_of(text, [*names, *values])
    canonical = _canonical_names(names, label, {e.text: full for e, full in defined.items()})
    resolved = [
        entity.model_copy(
            update={
                "label": entity.label
                if canonical[entity.text] in tied
                else label[canonical[entity.text]],
                "canonical": canonical[entity.text],
                "kind": EntityKind.NAME,
            }
        )
        for entity in names
    ]
    resolved += [
        entity.model_copy(update={"canonical": entity.text, "kind": EntityKind.VALUE})
        for entity in values
    ]
    return sorted(resolved, key=lambda entity: (entity.start, entity.end))


def _acronyms_defined(text: str, names: list[Entity]) -> dict[Entity, str]:
    """Acronyms defined in brackets right after a name ("... Organization (SCO)"), as
    mentions with that name's label, mapped to the name."""
    defined: dict[Entity, str] = {}
    for name in names:
        match = _DEFINED.match(text, name.end)
        if match and _initials_fit(match[1], name.text):
            acronym = Entity(
                text=match[1],
                label=name.label,
                start=match.start(1),
                end=match.end(1),
                canonical=name.text,
                kind=EntityKind.NAME,
            )
            defined[acronym] = name.text
    return defined


def _initials_fit(acronym: str, name: str) -> bool:
    """Whether the acronym's letters are the initials of the name's words (small words may
    be skipped) or at least begin those of its capitalised words."""
    letters = [c for c in acronym if c.isalpha()]
    words = _WORD.findall(name)
    every = [w[0].upper() for w in words]
    capitalised = [w[0] for w in words if w[0].isupper() and w.lower() not in _SMALL_WORDS]
    return len(letters) >= 2 and letters in (every, capitalised)


def _overlaps(entity: Entity, spans: list[tuple[int, int]]) -> bool:
    return any(start < entity.end and entity.start < end for start, end in spans)


def _mentions_of(text: str, found: list[Entity]) -> list[Entity]:
    """The mentions the model missed: each other whole-word occurrence of a name it tagged
    that overlaps no entity, with the first mention's label, longer names first.

    A one-word name must be an acronym or tagged twice: one wrong tag ("May" as a person)
    must not spread to every "May" of the text. "Will", a name, is not looked for where a
    sentence begins if "will" is a word of the text too."""
    taken = [(entity.start, entity.end) for entity in found]
    first_label: dict[str, str] = {}
    tags: Counter[str] = Counter()
    for entity in found:
        if kind_of(entity.label) is EntityKind.NAME:
            first_label.setdefault(entity.text, entity.label)
            tags[entity.text] += 1
    added: list[Entity] = []
    for surface in sorted(first_label, key=lambda s: (-len(s), s)):
        label = first_label[surface]
        one_word = " " not in surface
        if surface.lower() == surface or (one_word and not surface.isupper() and tags[surface] < 2):
            continue
        common = one_word and _whole_word(surface.lower()).search(text) is not None
        for match in _whole_word(surface).finditer(text):
            span = (match.start(), match.end())
            if common and _starts_sentence(text, span[0]):
                continue
            if not any(start < span[1] and span[0] < end for start, end in taken):
                added.append(
                    Entity(
                        text=surface,
                        label=label,
                        start=span[0],
                        end=span[1],
                        canonical=surface,
                        kind=EntityKind.NAME,
                    )
                )
                taken.append(span)
    return added


def _labels(names: list[Entity]) -> tuple[dict[str, str], set[str]]:
    """Each surface's label: the one most of its mentions carry (the first one's on a tie),
    and the surfaces with a tie, whose mentions keep the labels the model gave them."""
    votes: dict[str, Counter[str]] = {}
    for entity in sorted(names, key=lambda e: e.start):
        votes.setdefault(entity.text, Counter())[entity.label] += 1
    ranked = {surface: counts.most_common(2) for surface, counts in votes.items()}
    tied = {surface for surface, top in ranked.items() if len(top) == 2 and top[0][1] == top[1][1]}
    return {surface: top[0][0] for surface, top in ranked.items()}, tied


def _canonical_names(
    names: list[Entity], label: dict[str, str], defined: dict[str, str]
) -> dict[str, str]:
    """Each surface's full name: a defined acronym's name, the one longer name whose
    initials it is, the one longer person's name it ends; else itself."""
    surfaces = sorted({entity.text for entity in names}, key=lambda s: (-len(s), s))
    canonical: dict[str, str] = {}
    for surface in surfaces:
        longer = [other for other in surfaces if len(other) > len(surface)]
        if surface in defined:
            canonical[surface] = canonical.get(defined[surface], defined[surface])
            continue
        initials = (
            [o for o in longer if label[o] not in PERSON_LABELS and _initials_fit(surface, o)]
            if surface.isupper() and sum(c.isalpha() for c in surface) >= 3
            else []
        )
        words = surface.split()
        person_of = [
            o
            for o in longer
            if label[surface] in PERSON_LABELS
            and label[o] in PERSON_LABELS
            and o.split()[-len(words) :] == words
            and len(o.split()) > len(words)
        ]
        full = initials if len(initials) == 1 else person_of if len(person_of) == 1 else []
        canonical[surface] = canonical.get(full[0], full[0]) if full else surface
    return canonical
