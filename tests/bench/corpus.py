"""A reproducible corpus of article-length news page dumps in four languages, for `make bench`.

Sentences come from templates filled with names, places and numbers, so the text reads like
news (and gives spaCy real entities) while the corpus stays small to ship and fast to make.
English and French have NER models; German and Korean exercise the languages without one.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

PEOPLE = {
    "en": ["Sarah Mitchell", "James O'Connor", "Priya Raman", "Daniel Kim", "Laura Chen"],
    "fr": ["Claire Dubois", "Antoine Lefèvre", "Sophie Martin", "Julien Moreau", "Nadia Benali"],
    "de": ["Anna Schneider", "Lukas Weber", "Miriam Hoffmann", "Jonas Fischer"],
    "ko": ["김민준", "이서연", "박지훈", "최윤정"],
}
PLACES = {
    "en": ["Chicago", "Manchester", "Toronto", "Singapore", "Melbourne", "Seoul"],
    "fr": ["Lyon", "Marseille", "Bordeaux", "Montréal", "Bruxelles", "Genève"],
    "de": ["Hamburg", "München", "Leipzig", "Wien", "Zürich"],
    "ko": ["서울", "부산", "대구", "인천", "광주"],
}
ORGS = {
    "en": ["the Federal Reserve", "Microsoft", "the World Health Organization", "Unilever"],
    "fr": ["la Banque de France", "Airbus", "l'Organisation mondiale de la santé", "Renault"],
    "de": ["die Bundesbank", "Siemens", "die Deutsche Bahn", "Bosch"],
    "ko": ["한국은행", "삼성전자", "현대자동차", "국토교통부"],
}
SENTENCES = {
    "en": [
        "{person}, a spokesperson for {org}, said on Tuesday that {place} would raise its budget by {n} percent.",
        "Officials in {place} expect the new rules to take effect before the end of the year.",
        "According to {org}, more than {n} thousand households were affected by the changes.",
        "{person} told reporters in {place} that the negotiations had made real progress.",
        "The decision follows months of talks between {org} and local authorities.",
        "Analysts warned that prices could rise further if supply problems continue.",
        "In {place}, residents gathered outside city hall to protest against the plan.",
        "The report, published by {org}, found that demand had fallen for a third month.",
        "{person} argued that the measures would protect jobs in {place} and beyond.",
        "Critics say the government has not explained how the programme will be funded.",
    ],
    "fr": [
        "{person}, porte-parole de {org}, a déclaré mardi que {place} augmenterait son budget de {n} pour cent.",
        "Les responsables de {place} estiment que les nouvelles règles entreront en vigueur avant la fin de l'année.",
        "Selon {org}, plus de {n} mille foyers ont été touchés par ces changements.",
        "{person} a indiqué aux journalistes à {place} que les négociations avaient beaucoup progressé.",
        "Cette décision fait suite à des mois de discussions entre {org} et les autorités locales.",
        "Les analystes préviennent que les prix pourraient encore augmenter si les problèmes persistent.",
        "À {place}, des habitants se sont rassemblés devant la mairie pour protester contre le projet.",
        "Le rapport publié par {org} montre que la demande a baissé pour le troisième mois consécutif.",
    ],
    "de": [
        "{person}, Sprecherin von {org}, sagte am Dienstag, {place} werde sein Budget um {n} Prozent erhöhen.",
        "Die Behörden in {place} rechnen damit, dass die neuen Regeln noch vor Jahresende gelten.",
        "Nach Angaben von {org} waren mehr als {n} tausend Haushalte von den Änderungen betroffen.",
        "{person} erklärte in {place}, die Verhandlungen seien deutlich vorangekommen.",
        "Kritiker bemängeln, dass die Regierung die Finanzierung des Programms nicht erklärt habe.",
    ],
    "ko": [
        "{org} 대변인 {person} 씨는 화요일 {place}시가 예산을 {n}퍼센트 늘릴 것이라고 밝혔다.",
        "{place} 당국은 새 규정이 연말 이전에 시행될 것으로 내다봤다.",
        "{org}에 따르면 {n}천 가구 이상이 이번 변화의 영향을 받았다.",
        "{person} 씨는 {place}에서 기자들에게 협상이 상당한 진전을 이뤘다고 말했다.",
        "전문가들은 공급 문제가 계속되면 가격이 더 오를 수 있다고 경고했다.",
    ],
}
TITLES = {
    "en": "{place} Weighs New Budget as Talks Continue",
    "fr": "{place} envisage un nouveau budget",
    "de": "{place} plant neuen Haushalt",
    "ko": "{place}, 새 예산안 검토",
}
LANGUAGE_MIX = ["en"] * 5 + ["fr"] * 3 + ["de"] + ["ko"]


def article(rng: random.Random, language: str, words: int) -> tuple[str, str]:
    """(title, body paragraphs joined by blank lines) of about `words` words."""
    fill: dict[str, Callable[[], str]] = {
        "person": lambda: rng.choice(PEOPLE[language]),
        "place": lambda: rng.choice(PLACES[language]),
        "org": lambda: rng.choice(ORGS[language]),
        "n": lambda: str(rng.randint(2, 90)),
    }
    paragraphs: list[str] = []
    count = 0
    while count < words:
        sentences = [
            rng.choice(SENTENCES[language]).format(**{k: f() for k, f in fill.items()})
            for _ in range(rng.randint(2, 4))
        ]
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        count += len(paragraph.split())
    title = TITLES[language].format(place=rng.choice(PLACES[language]))
    return title, "\n\n".join(paragraphs)


# Publication months the pages spread over (the output's partitions).
MONTHS = ("January", "February", "March")


def page_dump(rng: random.Random, number: int, words: int) -> str:
    language = LANGUAGE_MIX[number % len(LANGUAGE_MIX)]
    title, body = article(rng, language, words)
    day, hour, minute = rng.randint(1, 28), rng.randint(0, 23), rng.randint(0, 59)
    return (
        f"Go to contents\n\n{title}\n\nPosted {MONTHS[number % len(MONTHS)]}. {day}, 2024 "
        f"{hour:02d}:{minute:02d},\n\n"
        f"{body}\n\nreporter{number % 7}@example.com\n"
    )


def write_corpus(directory: Path, documents: int, words: int = 500, seed: int = 7) -> Path:
    """Write `documents` page dumps of about `words` words each; same seed, same corpus."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for number in range(documents):
        path = directory / f"{number:06d}.txt"
        path.write_text(page_dump(rng, number, words), encoding="utf-8")
    return directory
