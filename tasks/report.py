"""Report stage: the run's summary as a markdown artifact in the Prefect UI."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact

from schemas.models import RunSummary
from tasks.common import RETRY_OPTIONS

SUMMARY_ARTIFACT_KEY = "docpipe-run-summary"


def _table(header: tuple[str, ...], rows: list[tuple[object, ...]]) -> list[str]:
    if not rows:
        return ["_none_"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def render_summary(summary: RunSummary) -> str:
    """Markdown: inputs, documents, rejects by reason, documents by language, top entities."""
    lines = [
        "# docpipe run summary",
        "",
        f"Output: `{summary.output}`",
        "",
        f"**{summary.inputs}** inputs: **{summary.documents}** documents, "
        f"**{summary.rejects}** rejects.",
        "",
        "## Rejects by reason",
        *_table(("reason", "rejects"), list(summary.rejects_by_reason.items())),
        "",
        "## Documents by language",
        *_table(("language", "documents"), list(summary.documents_by_language.items())),
        "",
        "## Top entities",
        *_table(("entity", "label", "mentions"), list(summary.top_entities)),
    ]
    return "\n".join(lines) + "\n"


@task(name="report", task_run_name="report", **RETRY_OPTIONS)
def publish_summary(summary: RunSummary) -> str:
    markdown = render_summary(summary)
    create_markdown_artifact(
        markdown,
        key=SUMMARY_ARTIFACT_KEY,
        description="Inputs, documents, rejects, languages, entities",
    )
    return markdown
