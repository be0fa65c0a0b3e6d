"""Agreement between extractors, paragraph by paragraph: what one text says that another holds.

A paragraph is a non-blank line. Text A *contains* a paragraph when at least `CONTAINED` of the
paragraph's distinct word 4-grams occur in A (a paragraph of under four words must occur in A
as a run of words). Case and punctuation do not matter; word order within 4-grams does.
"""

from __future__ import annotations

import re
from functools import cached_property

CONTAINED = 0.5
_WORD = re.compile(r"\w+")
_GRAM = 4


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def _grams(words: list[str]) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + _GRAM]) for i in range(len(words) - _GRAM + 1)}


class Text:
    """One extractor's output, ready to be asked whether it contains a paragraph."""

    def __init__(self, text: str) -> None:
        self.paragraphs = paragraphs(text)

    @cached_property
    def _words(self) -> list[str]:
        return _words("\n".join(self.paragraphs))

    @cached_property
    def _grams(self) -> set[tuple[str, ...]]:
        return _grams(self._words)

    @cached_property
    def _joined(self) -> str:
        return f" {' '.join(self._words)} "

    def contains(self, paragraph: str) -> bool:
        return self._holds(_words(paragraph))

    def _holds(self, words: list[str]) -> bool:
        if len(words) < _GRAM:
            return not words or f" {' '.join(words)} " in self._joined
        grams = _grams(words)
        return len(grams & self._grams) >= CONTAINED * len(grams)

    def coverage(self, others: list[str]) -> float:
        """The share of the words of `others` that lie in paragraphs this text contains
        (1.0 when `others` has no words)."""
        total = held = 0
        for words in map(_words, others):
            total += len(words)
            held += len(words) if self._holds(words) else 0
        return held / total if total else 1.0


def with_missing(base: Text, additions: list[str]) -> list[str]:
    """`base`'s paragraphs with each of `additions` (in their order) that it lacks inserted
    right after the nearest preceding addition already there, so page order is kept."""
    merged = list(base.paragraphs)
    held = [Text(paragraph) for paragraph in merged]
    anchor = -1
    for paragraph in additions:
        found = next((i for i, text in enumerate(held) if text.contains(paragraph)), None)
        if found is not None:
            anchor = found
            continue
        anchor += 1
        merged.insert(anchor, paragraph)
        held.insert(anchor, Text(paragraph))
    return merged
