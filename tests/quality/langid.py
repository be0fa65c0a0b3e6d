"""Language identification scored on sentences: per language, right, `und` and wrong.

`make eval` scores `../shared/data/langid-dev` (skipped when absent), the language stage and
raw langdetect side by side from one pass, then the same sentences as ten-sentence documents
and, through `docpipe run`, as JSONL records. The gate (`make test`) scores the project's
copy of some of those sentences (`tests/fixtures/langid/`).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tasks.language import UNDETERMINED, detect_probabilities, identify, top_language
from tasks.layout import read_dataset

SENTENCES = Path(__file__).resolve().parents[1] / "fixtures" / "langid"
DOCUMENT_SENTENCES = 10
MISSING = "(no document)"  # counts as wrong

Identifier = Callable[[str], str]


def load_sentences(folder: Path = SENTENCES) -> dict[str, list[str]]:
    """Language code -> its sentences, from one `<code>.txt` a language, a sentence a line."""
    return {
        path.stem: [
            line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
        ]
        for path in sorted(folder.glob("*.txt"))
    }


def as_documents(sentences: dict[str, list[str]]) -> dict[str, list[str]]:
    """Consecutive sentences joined into documents of `DOCUMENT_SENTENCES` each."""
    return {
        language: [
            " ".join(lines[start : start + DOCUMENT_SENTENCES])
            for start in range(0, len(lines) - DOCUMENT_SENTENCES + 1, DOCUMENT_SENTENCES)
        ]
        for language, lines in sentences.items()
    }


def docpipe(text: str) -> str:
    return identify(text).language


def raw_langdetect(text: str) -> str:
    """langdetect alone, seeded, its top language (zh-cn and zh-tw are zh), no length floor."""
    probabilities = detect_probabilities(text)
    return top_language(probabilities) if probabilities else UNDETERMINED


IDENTIFIERS: dict[str, Identifier] = {"docpipe": docpipe, "langdetect": raw_langdetect}


@dataclass
class Tally:
    right: int = 0
    undetermined: int = 0
    wrong: int = 0

    @property
    def total(self) -> int:
        return self.right + self.undetermined + self.wrong

    def add(self, expected: str, got: str) -> None:
        if got == expected:
            self.right += 1
        elif got == UNDETERMINED:
            self.undetermined += 1
        else:
            self.wrong += 1

    def shares(self) -> tuple[float, float, float]:
        total = self.total or 1
        return self.right / total, self.undetermined / total, self.wrong / total


def tally(answers: dict[str, list[str]]) -> dict[str, Tally]:
    """Per expected language, how its answers fall; "all" sums them."""
    tallies = {language: Tally() for language in answers}
    overall = Tally()
    for language, got in answers.items():
        for answer in got:
            tallies[language].add(language, answer)
            overall.add(language, answer)
    return {**tallies, "all": overall}


def answers_of(identifier: Identifier, sentences: dict[str, list[str]]) -> dict[str, list[str]]:
    return {language: [identifier(text) for text in lines] for language, lines in sentences.items()}


def right_share(sentences: dict[str, list[str]]) -> float:
    """Share of the sentences the language stage gets right (the gate's figure)."""
    return tally(answers_of(docpipe, sentences))["all"].shares()[0]


def print_tallies(title: str, tallies: dict[str, dict[str, Tally]]) -> None:
    """One row per language: each identifier's right, und and wrong percentages."""
    names = list(tallies)
    print(title)
    header = "  {:<5} {:>5}".format("lang", "n") + "".join(
        f" | {name:>10} right   und wrong" for name in names
    )
    print(header)
    for language in tallies[names[0]]:
        cells = []
        for name in names:
            right, undetermined, wrong = tallies[name][language].shares()
            cells.append(
                f" | {'':>10} {100 * right:5.1f} {100 * undetermined:5.1f} {100 * wrong:5.1f}"
            )
        print(f"  {language:<5} {tallies[names[0]][language].total:>5}" + "".join(cells))


def print_langid(sentences: dict[str, list[str]]) -> None:
    """The stage and raw langdetect on sentences and on ten-sentence documents."""
    for title, texts in (
        ("sentences", sentences),
        ("documents of ten sentences", as_documents(sentences)),
    ):
        tallies = {}
        seconds = {}
        for name, identifier in IDENTIFIERS.items():
            start = time.perf_counter()
            tallies[name] = tally(answers_of(identifier, texts))
            seconds[name] = time.perf_counter() - start
        count = tallies["docpipe"]["all"].total
        timing = ", ".join(f"{name} {1000 * s / count:.2f} ms" for name, s in seconds.items())
        print_tallies(f"langid-dev, {title} ({count}; per text: {timing})", tallies)


def write_jsonl(sentences: dict[str, list[str]], path: Path) -> Path:
    """One JSONL record a sentence, `id` `<language>-<n>` (no URL: no edition to read)."""
    with path.open("w", encoding="utf-8") as stream:
        for language, lines in sentences.items():
            for number, text in enumerate(lines):
                stream.write(json.dumps({"id": f"{language}-{number}", "text": text}) + "\n")
    return path


def through_pipeline(
    sentences: dict[str, list[str]], work: Path
) -> tuple[dict[str, list[str]], dict[str, int]]:
    """`docpipe run` over the sentences as JSONL records: the language each sentence got
    (`MISSING` where it became no document) and the run's rejects by reason."""
    source = write_jsonl(sentences, work / "sentences.jsonl")
    output = work / "out"
    docpipe_command = Path(sys.executable).with_name("docpipe")
    subprocess.run([str(docpipe_command), "run", str(source), "--output", str(output)], check=True)
    documents = read_dataset(output, "documents", columns=["source", "language"]).to_pylist()
    found = {row["source"].rsplit("#", 1)[1]: row["language"] for row in documents}
    answers = {
        language: [found.get(f"{language}-{number}", MISSING) for number in range(len(lines))]
        for language, lines in sentences.items()
    }
    reasons = read_dataset(output, "rejects", columns=["reason"]).column("reason").to_pylist()
    return answers, dict(Counter(reasons))
