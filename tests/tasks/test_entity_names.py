"""Entity names within a document: a table of texts written for these rules, with the
mentions a model might give, and what each mention must come out as."""

from __future__ import annotations

import pytest

from schemas.models import Entity
from tasks.entities import normalise_span
from tasks.entity_names import kind_of, resolve

# A mention the model gave: (surface, label, which occurrence of the surface in the text).
Tagged = tuple[str, str, int]
# What comes out: (surface, label, canonical), in text order.
Resolved = tuple[str, str, str]


def mentions(text: str, tagged: list[Tagged]) -> list[Entity]:
    found = []
    for surface, label, occurrence in tagged:
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(surface, start + 1)
        found.append(
            Entity(
                text=surface, label=label, start=start, end=start + len(surface),
                canonical=surface, kind=kind_of(label),
            )
        )  # fmt: skip
    return found


SCO_TEXT = (
    "Both agreed to strengthen the Shanghai Cooperation Organization (SCO). The SCO was born "
    "as an organization of five countries. Last year, Uzbekistan joined the SCO."
)
CASES: list[tuple[str, str, list[Tagged], list[Resolved]]] = [
    (
        "acronym defined in brackets, one of its mentions missed",
        SCO_TEXT,
        [("Shanghai Cooperation Organization", "ORG", 0), ("SCO", "ORG", 1), ("SCO", "ORG", 2),
         ("Uzbekistan", "GPE", 0)],
        [("Shanghai Cooperation Organization", "ORG", "Shanghai Cooperation Organization"),
         ("SCO", "ORG", "Shanghai Cooperation Organization"),
         ("SCO", "ORG", "Shanghai Cooperation Organization"),
         ("Uzbekistan", "GPE", "Uzbekistan"),
         ("SCO", "ORG", "Shanghai Cooperation Organization")],
    ),
    (
        "acronym from the initials of one longer name",
        "The World Health Organization warned on Monday. WHO officials said more was needed.",
        [("World Health Organization", "ORG", 0), ("WHO", "ORG", 0)],
        [("World Health Organization", "ORG", "World Health Organization"),
         ("WHO", "ORG", "World Health Organization")],
    ),
    (
        "an acronym the model tagged in its brackets is one mention, not two",
        "The Shanghai Cooperation Organization (SCO) met. The SCO grew.",
        [("Shanghai Cooperation Organization", "ORG", 0), ("SCO", "ORG", 0)],
        [("Shanghai Cooperation Organization", "ORG", "Shanghai Cooperation Organization"),
         ("SCO", "ORG", "Shanghai Cooperation Organization"),
         ("SCO", "ORG", "Shanghai Cooperation Organization")],
    ),
    (
        "two letters are too few to guess whose initials they are",
        "Ursula Nichols said UN officials will visit.",
        [("Ursula Nichols", "PERSON", 0), ("UN", "ORG", 0)],
        [("Ursula Nichols", "PERSON", "Ursula Nichols"), ("UN", "ORG", "UN")],
    ),
    (
        "a person's surname after the full name",
        "Vladimir Rushailo arrived on Tuesday. Rushailo said the talks went well.",
        [("Vladimir Rushailo", "PERSON", 0), ("Rushailo", "PERSON", 1)],
        [("Vladimir Rushailo", "PERSON", "Vladimir Rushailo"),
         ("Rushailo", "PERSON", "Vladimir Rushailo")],
    ),
    (
        "a place that ends a person's name stays a place",
        "A statue of George Washington stands in Washington.",
        [("George Washington", "PERSON", 0), ("Washington", "GPE", 1)],
        [("George Washington", "PERSON", "George Washington"),
         ("Washington", "GPE", "Washington")],
    ),
    (
        "one tag of a one-word name does not spread",
        "Theresa May spoke. May said talks would resume in May.",
        [("Theresa May", "PERSON", 0), ("May", "PERSON", 1)],
        [("Theresa May", "PERSON", "Theresa May"), ("May", "PERSON", "Theresa May")],
    ),
    (
        "a surname two people share stays itself",
        "John Smith and Jane Smith met. Smith said nothing.",
        [("John Smith", "PERSON", 0), ("Jane Smith", "PERSON", 0), ("Smith", "PERSON", 2)],
        [("John Smith", "PERSON", "John Smith"), ("Jane Smith", "PERSON", "Jane Smith"),
         ("Smith", "PERSON", "Smith")],
    ),
    (
        "one label per name: the most mentions' label",
        "Police in Whitby closed the road. Whitby council met. Residents of Whitby complained.",
        [("Whitby", "GPE", 0), ("Whitby", "ORG", 1), ("Whitby", "GPE", 2)],
        [("Whitby", "GPE", "Whitby")] * 3,
    ),
    (
        "on a tie each mention keeps the model's label",
        "Whitby closed the road. Later Whitby reopened it.",
        [("Whitby", "GPE", 0), ("Whitby", "ORG", 1)],
        [("Whitby", "GPE", "Whitby"), ("Whitby", "ORG", "Whitby")],
    ),
    (
        "a name inside a longer one is not tagged again; values are kept as they are",
        "The China Daily reported on July 18 that China and Russia agreed.",
        [("China Daily", "ORG", 0), ("July 18", "DATE", 0), ("China", "GPE", 1)],
        [("China Daily", "ORG", "China Daily"), ("July 18", "DATE", "July 18"),
         ("China", "GPE", "China")],
    ),
    (
        "a one-word name that is also a word is not looked for where a sentence starts",
        "Will said hello. Will they stay? Critics will see. Ask Will. I met Will today.",
        [("Will", "PERSON", 0), ("Will", "PERSON", 2)],
        [("Will", "PERSON", "Will")] * 3,
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "tagged", "expected"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_resolve(text: str, tagged: list[Tagged], expected: list[Resolved]) -> None:
    resolved = resolve(text, mentions(text, tagged))
    assert [(e.text, e.label, e.canonical) for e in resolved] == expected
    assert all(text[e.start : e.end] == e.text for e in resolved)
    assert [e.kind for e in resolved] == [kind_of(label) for _, label, _ in expected]


@pytest.mark.parametrize(
    ("language", "span", "expected"),
    [
        ("fr", "le Rhône", "Rhône"),
        ("fr", "l'Union européenne", "Union européenne"),
        ("fr", "Le Havre", "Le Havre"),  # a capital article belongs to the name
        ("en", "the Rhône", "Rhône"),
        ("de", "die Bundesbank", "Bundesbank"),
        ("en", "NATO’s", "NATO"),
    ],
)
def test_articles_and_possessives_per_language(language: str, span: str, expected: str) -> None:
    text = f"Avant {span} après."
    found = normalise_span(text, 6, 6 + len(span), language)
    assert found is not None and text[found[0] : found[1]] == expected
