"""Schemas: one source of truth, derived Arrow types, parameters validated with clear errors."""

from __future__ import annotations

import inspect
from pathlib import Path

import pyarrow as pa
import pytest
from pydantic import ValidationError

from flows.pipeline import process_documents
from schemas.arrow import DOCUMENTS_SCHEMA, ENTITIES_SCHEMA, REJECTS_SCHEMA
from schemas.models import RejectReason
from schemas.run import RunParameters

CONTRACT = {
    "documents": [
        "doc_id", "source", "title", "published_at", "updated_at", "authors", "author_emails",
        "editions", "declared_language", "text",
        "language", "language_score", "language_method",
        "entities", "ner_model", "content_sha256", "processed_at",
        "pipeline_version",
    ],
    "entities": ["doc_id", "text", "label", "start", "end", "canonical", "kind", "language"],
    "rejects": ["source", "stage", "reason", "detail"],
}  # fmt: skip


def test_output_columns_are_the_contract() -> None:
    assert sorted(DOCUMENTS_SCHEMA.names) == sorted(CONTRACT["documents"])
    assert ENTITIES_SCHEMA.names == CONTRACT["entities"]
    assert REJECTS_SCHEMA.names == CONTRACT["rejects"]


def test_derived_arrow_types() -> None:
    assert DOCUMENTS_SCHEMA.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert DOCUMENTS_SCHEMA.field("published_at").nullable
    assert not DOCUMENTS_SCHEMA.field("doc_id").nullable
    assert DOCUMENTS_SCHEMA.field("authors").type.value_type == pa.string()
    entity = DOCUMENTS_SCHEMA.field("entities").type.value_type
    assert [entity.field(i).name for i in range(entity.num_fields)] == [
        "text", "label", "start", "end", "canonical", "kind",
    ]  # fmt: skip


def test_flow_parameters_are_the_run_parameters_model() -> None:
    flow_parameters = list(inspect.signature(process_documents.fn).parameters)
    assert flow_parameters == list(RunParameters.model_fields)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"batch_size": 0}, "batch_size"),
        ({"sources": []}, "sources"),
        ({"unknown": 1}, "unknown"),
        ({"limits": {"max_document_bytes": 10}}, "limits.max_document_bytes"),
        ({"limits": {"max_documents": 0}}, "limits.max_documents"),
        ({"limits": {"stage_timeout_seconds": 1}}, "limits.stage_timeout_seconds"),
    ],
)
def test_bad_parameters_name_their_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        RunParameters.model_validate({"sources": ["seeds/"], "output": Path("out"), **changes})
    assert field in str(raised.value)


def test_the_output_reference_names_every_reject_reason() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "output.md"
    text = page.read_text(encoding="utf-8")
    rejects = text[text.index("## Rejects") :]
    missing = [reason.value for reason in RejectReason if f"`{reason.value}`" not in rejects]
    assert missing == []
    assert "`http_<status>`" in rejects and RejectReason.http(404) == "http_404"
