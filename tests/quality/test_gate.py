"""The quality gate runs in `make test`: extraction F1 and the page-dump table vs. the baseline."""

from __future__ import annotations

import re

import pytest

import tasks.clean_dump
from tests.quality.entity_eval import entity_scores
from tests.quality.gate import baseline, measure, page_dump_accuracy, raised, shortfalls


def test_quality_is_not_below_the_baseline() -> None:
    assert shortfalls(measure(), baseline()) == []


def test_gate_fails_when_a_cleaning_rule_is_broken(monkeypatch: pytest.MonkeyPatch) -> None:
    never = re.compile(r"(?!)").fullmatch
    broken = [
        (kind, never if kind is tasks.clean_dump.Kind.SKIP_LINK else matches)
        for kind, matches in tasks.clean_dump._CLASSIFIERS
    ]
    monkeypatch.setattr(tasks.clean_dump, "_CLASSIFIERS", broken)
    measured = {**baseline(), "page_dump_accuracy": page_dump_accuracy()}
    problems = shortfalls(measured, baseline())
    assert len(problems) == 1 and problems[0].startswith("page_dump_accuracy is 0.")


def test_baseline_only_moves_up() -> None:
    recorded = {"html_f1": 0.98, "page_dump_accuracy": 1.0}
    assert raised({"html_f1": 0.97, "page_dump_accuracy": 1.0}, recorded) == recorded
    assert raised({"html_f1": 0.99, "page_dump_accuracy": 0.9}, recorded) == {
        "html_f1": 0.99,
        "page_dump_accuracy": 1.0,
    }


def test_names_across_the_document_raise_entity_f1_over_the_model_alone() -> None:
    scores = entity_scores()
    assert scores["docpipe"].f1 > scores["model alone"].f1
    assert scores["docpipe"].precision >= scores["model alone"].precision
