"""Arrow schemas of the Parquet outputs, derived from the pydantic models, never by hand."""

from __future__ import annotations

import types
from datetime import datetime
from typing import Any, Union, get_args, get_origin

import pyarrow as pa
from pydantic import AwareDatetime, BaseModel

from schemas.models import Document, EntityIndexRow, EntityMention, Reject, SitePage

_SCALARS: dict[Any, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
    # Microsecond UTC timestamps: what Spark, DuckDB, pandas and Polars all read without glue.
    datetime: pa.timestamp("us", tz="UTC"),
    AwareDatetime: pa.timestamp("us", tz="UTC"),
}


def _arrow_type(annotation: Any) -> tuple[pa.DataType, bool]:
    """Map a type annotation to (Arrow type, nullable)."""
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(members) != 1:
            raise TypeError(f"only `X | None` unions map to Arrow, got {annotation!r}")
        return _arrow_type(members[0])[0], True
    if origin is list:
        (item,) = get_args(annotation)
        return pa.list_(pa.field("element", _arrow_type(item)[0], nullable=False)), False
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return pa.struct(list(schema_of(annotation))), False
    if annotation in _SCALARS:
        return _SCALARS[annotation], False
    raise TypeError(f"no Arrow mapping for {annotation!r}")


def schema_of(model: type[BaseModel]) -> pa.Schema:
    """The Arrow schema of a pydantic model: one column per field, in declaration order."""
    fields = []
    for name, info in model.model_fields.items():
        arrow_type, nullable = _arrow_type(info.annotation)
        fields.append(pa.field(name, arrow_type, nullable=nullable))
    return pa.schema(fields)


DOCUMENTS_SCHEMA = schema_of(Document)
ENTITIES_SCHEMA = schema_of(EntityMention)
REJECTS_SCHEMA = schema_of(Reject)
# Derived from the entities and documents by finalize (tasks.entity_index).
ENTITY_INDEX_SCHEMA = schema_of(EntityIndexRow)
# Bookkeeping, not output: what the site-furniture memory keeps per page.
SITE_PAGES_SCHEMA = schema_of(SitePage)

# Output dataset name -> its schema: the layout of OUT/.
OUTPUT_SCHEMAS: dict[str, pa.Schema] = {
    "documents": DOCUMENTS_SCHEMA,
    "entities": ENTITIES_SCHEMA,
    "rejects": REJECTS_SCHEMA,
}
