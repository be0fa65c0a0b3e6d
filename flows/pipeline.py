"""The `process_documents` flow: fetch -> clean -> language -> entities -> export, per batch."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

from prefect import flow, get_run_logger
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.runtime import flow_run

from flows.in_flight import BatchesInFlight
from flows.runners import task_runner
from schemas.models import SourceBatch
from schemas.run import (
    DEFAULT_BATCH_SIZE,
    HttpOptions,
    Limits,
    RunParameters,
    RunSummary,
    available_cores,
)
from tasks.clean import clean_documents
from tasks.entities import extract_entities, warm_up
from tasks.export import export_documents
from tasks.fetch import discover_sources, fetch_documents
from tasks.language import detect_languages
from tasks.lock import hold
from tasks.output import finalize, plan_run
from tasks.report import publish_summary
from tasks.site_furniture import site_batches

# Batches whose stages may run at once: two per core keeps every worker busy while the
# next batch is fetched, and memory does not grow with the corpus.
MAX_BATCHES_IN_FLIGHT = 2 * available_cores()


def _run_name() -> str:
    parameters = flow_run.get_parameters()
    sources = ", ".join(parameters.get("sources", []))
    shown = sources if len(sources) <= 60 else sources[:57] + "..."
    return f"{shown} -> {parameters.get('output')}"


@flow(
    name="process-documents",
    flow_run_name=_run_name,
    description="Turn raw news pages into clean Parquet: documents, entities and rejects.",
    task_runner=task_runner(),
)
def process_documents(
    sources: list[str],
    output: str = "out",
    timezone: str = "UTC",
    batch_size: int = DEFAULT_BATCH_SIZE,
    allow_private_hosts: bool = False,
    http: HttpOptions | None = None,
    limits: Limits | None = None,
    full_refresh: bool = False,
    processes: int | None = None,
    dask_address: str | None = None,
    spacy_models: dict[str, list[str]] | None = None,
) -> RunSummary:
    """Process the new and changed documents of `sources` into Parquet under `output`.

    Parameters are validated by `RunParameters` before any work starts. With `dask_address`
    the run continues as a subflow whose stages run on that Dask scheduler's workers.
    """
    params = RunParameters.model_validate(
        {
            "sources": sources,
            "output": output,
            "timezone": timezone,
            "batch_size": batch_size,
            "allow_private_hosts": allow_private_hosts,
            "full_refresh": full_refresh,
            **({"processes": processes} if processes is not None else {}),
            "dask_address": dask_address,
            **({"http": http} if http is not None else {}),
            **({"limits": limits} if limits is not None else {}),
            **({"spacy_models": spacy_models} if spacy_models is not None else {}),
        }
    )
    if params.dask_address:
        on_dask = process_documents.with_options(task_runner=task_runner(params.dask_address))
        # Each Dask worker process runs its stages itself: no extra worker pool there.
        options = params.model_dump(exclude={"dask_address", "processes"}, mode="json")
        summary: RunSummary = on_dask(**options, processes=0)
        return summary
    output_dir = params.output.absolute()
    # One writer at a time: another run or `docpipe compact` is waited for.
    with hold(output_dir, params.limits.busy_wait_seconds, "this run"):
        return _process(params, output_dir)


def _process(params: RunParameters, output_dir: Path) -> RunSummary:
    """The run itself: plan, the stages of every batch, finalize and report."""
    logger = get_run_logger()
    limits = params.limits
    locations = discover_sources(
        params.sources,
        http=params.http,
        limits=limits,
        allow_private_hosts=params.allow_private_hosts,
        output=output_dir,
    )
    todo, unchanged, deferred, fingerprints = plan_run(
        locations, output_dir, params.full_refresh, limits.max_documents
    )
    # A site's pages side by side: each batch learns the furniture of the sites it holds.
    batches = [
        SourceBatch(name=f"batch-{number:04d}", locations=locations)
        for number, locations in enumerate(site_batches(todo, params.batch_size), start=1)
    ]
    if batches:
        logger.info(
            "%d inputs in %d batches of up to %d", len(todo), len(batches), params.batch_size
        )
    else:
        logger.info("nothing new or changed in %d inputs: no stage work to do", len(unchanged))
    progress = create_progress_artifact(
        0.0 if batches else 100.0,
        description="Batches exported" if batches else "Nothing new or changed: no stage work",
    )
    assert isinstance(progress, UUID)  # a sync flow gets the value, not a coroutine
    if batches:
        warm_up(params.spacy_models, params.processes)
    # A full refresh recomputes every stage instead of reusing cached results.
    clean, detect, extract = clean_documents, detect_languages, extract_entities
    if params.full_refresh:
        clean = clean.with_options(refresh_cache=True)
        detect = detect.with_options(refresh_cache=True)
        extract = extract.with_options(refresh_cache=True)

    queue = BatchesInFlight(
        total=len(batches),
        limit=MAX_BATCHES_IN_FLIGHT,
        fingerprints=fingerprints,
        logger=logger,
        on_progress=lambda percent: update_progress_artifact(progress, percent),
    )
    timeout = limits.stage_timeout_seconds
    for batch in batches:
        # Each stage receives the previous stage's future; Prefect resolves it before running.
        # (Prefect's typed `submit` overload does not accept futures in place of values.)
        fetched = fetch_documents.submit(
            batch,
            http=params.http,
            limits=limits,
            allow_private_hosts=params.allow_private_hosts,
            output=output_dir,
        )
        cleaned = clean.submit(fetched, params.timezone, params.processes, timeout, output_dir)  # type: ignore[call-overload]
        detected = detect.submit(cleaned, params.processes, timeout)
        extracted = extract.submit(detected, params.spacy_models, params.processes, timeout)  # type: ignore[call-overload]
        earlier = [fetched, cleaned, detected]
        exported = export_documents.submit(extracted, earlier, output_dir)
        stages = {"fetch": fetched, "clean": cleaned, "language": detected}
        queue.add(batch, {**stages, "entities": extracted, "export": exported})
    queue.finish_all()
    # Done, whether there was stage work or not: a run with nothing new is complete too.
    update_progress_artifact(progress, 100.0)

    skipped = len(unchanged) + queue.unchanged
    summary = finalize(
        output_dir, queue.parts, fingerprints, skipped, len(deferred), queue.failed_inputs
    )
    publish_summary(summary)
    rejected = ", ".join(f"{reason}: {n}" for reason, n in summary.rejects_by_reason.items())
    logger.info(
        "%d inputs: %d documents and %d rejects written%s, %d unchanged, %d left for the "
        "next run, %d in failed batches; output %s now holds %d documents and %d rejects",
        summary.inputs,
        summary.documents,
        summary.rejects,
        f" ({rejected})" if rejected else "",
        summary.unchanged,
        summary.deferred,
        summary.failed,
        output_dir,
        summary.total_documents,
        summary.total_rejects,
    )
    if queue.failed:
        raise RuntimeError(
            f"{len(queue.failed)} of {len(batches)} batches failed after their retries; the others "
            "are written, and the next run processes the failed batches' inputs again: "
            + "; ".join(queue.failed)
        )
    return summary
