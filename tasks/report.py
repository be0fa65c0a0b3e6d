"""Report stage: the run's summary as artifacts in the Prefect UI.

Artifact keys are stable, so the UI's Artifacts page shows each one's history across runs:
`docpipe-run-summary` (markdown) and three tables, `docpipe-documents-by-language`,
`docpipe-rejects-by-reason` and `docpipe-top-entities`.
"""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from schemas.run import RunSummary
from tasks.common import RETRY_OPTIONS

SUMMARY_ARTIFACT_KEY = "docpipe-run-summary"

Rows = list[dict[str, object]]


def summary_tables(summary: RunSummary) -> dict[str, tuple[str, Rows]]:
    """Artifact key -> (description, rows) of each table of the summary."""
    return {
        "docpipe-documents-by-language": (
            "Documents written by the run, per language",
            [{"language": k, "documents": n} for k, n in summary.documents_by_language.items()],
        ),
        "docpipe-rejects-by-reason": (
            "Inputs rejected by the run, per reason",
            [{"reason": k, "rejects": n} for k, n in summary.rejects_by_reason.items()],
        ),
        "docpipe-top-entities": (
            "Most mentioned entities in the documents written by the run",
            [{"entity": t, "label": lb, "mentions": n} for t, lb, n in summary.top_entities],
        ),
    }


def render_summary(summary: RunSummary) -> str:
    """Markdown: inputs, documents, rejects, unchanged, and the summary's tables."""
    lines = [
        "# docpipe run summary",
        "",
        f"Output: `{summary.output}`",
        "",
        f"**{summary.inputs}** inputs: **{summary.documents}** documents, "
        f"**{summary.rejects}** rejects, **{summary.unchanged}** unchanged since an earlier run, "
        f"**{summary.deferred}** left for the next run, **{summary.failed}** in failed batches "
        "(processed again by the next run).",
        "",
        f"The output now holds {summary.total_documents} documents and "
        f"{summary.total_rejects} rejects.",
    ]
    if summary.inputs == summary.unchanged:
        lines += ["", "Nothing new or changed: no stage work was done."]
    for description, rows in summary_tables(summary).values():
        lines += ["", f"## {description}", ""]
        if not rows:
            lines.append("_none_")
            continue
        header = list(rows[0])
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(str(row[c]) for c in header) + " |" for row in rows]
    return "\n".join(lines) + "\n"


@task(name="report", task_run_name="report", **RETRY_OPTIONS)
def publish_summary(summary: RunSummary) -> str:
    markdown = render_summary(summary)
    create_markdown_artifact(
        markdown, key=SUMMARY_ARTIFACT_KEY, description="What the run did, in one page"
    )
    for key, (description, rows) in summary_tables(summary).items():
        create_table_artifact(rows, key=key, description=description)
    return markdown
