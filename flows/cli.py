"""`docpipe`: run the pipeline from the command line and print a one-screen summary."""

from __future__ import annotations

import glob
import json
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from schemas.run import (
    DEFAULT_BATCH_SIZE,
    HttpOptions,
    Limits,
    RunParameters,
    RunSummary,
    available_cores,
)
from tasks.http import is_url

# Every way of starting a run is quiet and offline, as `make` runs it: no telemetry (its
# heartbeat also fought the temporary server's SQLite for its lock), no upgrade box in the UI,
# and time for a first temporary Prefect server to build its database.
for _name, _value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}.items():
    os.environ.setdefault(_name, _value)

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)  # one line per error, however narrow


@app.callback()
def main() -> None:
    """docpipe: raw news pages in, clean Parquet out, orchestrated by Prefect."""


def fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]docpipe: error:[/] {message}")
    return typer.Exit(code=2)


def check_sources(sources: list[str]) -> None:
    missing = [
        s
        for s in sources
        if not is_url(s) and not Path(s).expanduser().exists() and not glob.glob(s, recursive=True)
    ]
    if missing:
        raise fail("no such file, directory or glob match: " + ", ".join(missing))


def check_writable(output: Path) -> None:
    try:
        output.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=output):
            pass
    except OSError as error:
        raise fail(
            f"output directory {output} is not writable: {error.strerror or error}"
        ) from error


def counted(number: int, noun: str) -> str:
    """`1 document`, `2 documents`."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _shown(path: str) -> str:
    """`path` relative to the current directory when it lies below it: shorter to read."""
    return os.path.relpath(path) if Path(path).is_relative_to(Path.cwd()) else path


def query_hint(output: str) -> str:
    """A command that reads the output with DuckDB, runnable as printed after `make run`."""
    documents = json.dumps(f"{_shown(output)}/documents/*/*.parquet")
    columns = json.dumps("title, language, published_at")
    code = f"import duckdb; duckdb.read_parquet({documents}).project({columns}).show()"
    return f"{shlex.quote(_shown(sys.executable))} -c {shlex.quote(code)}"


def print_summary(summary: RunSummary) -> None:
    console.print(
        f"\n[bold]{counted(summary.inputs, 'input')}[/] -> "
        f"[green]{counted(summary.documents, 'document')}[/], "
        f"[yellow]{counted(summary.rejects, 'reject')}[/], {summary.unchanged} unchanged since "
        f"an earlier run, {summary.deferred} left for the next run, {summary.failed} failed\n"
        f"Output [cyan]{summary.output}[/] now holds "
        f"{counted(summary.total_documents, 'document')} and "
        f"{counted(summary.total_rejects, 'reject')}"
    )
    for title, header, rows in (
        ("Rejects by reason", ("reason", "rejects"), list(summary.rejects_by_reason.items())),
        (
            "Documents by language",
            ("language", "documents"),
            list(summary.documents_by_language.items()),
        ),
        ("Top entities", ("entity", "label", "mentions"), list(summary.top_entities)),
    ):
        if rows:
            table = Table(*header, title=title, title_justify="left")
            for row in rows:
                table.add_row(*(str(cell) for cell in row))
            console.print(table)
    console.print(f"Query it: [cyan]{query_hint(summary.output)}[/]", markup=True, highlight=False)


@app.command()
def run(
    sources: Annotated[list[str], typer.Argument(help="What to process (see above).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output directory.")] = Path("out"),
    timezone: Annotated[
        str, typer.Option(help="IANA zone of datelines that carry none, e.g. Asia/Seoul.")
    ] = "UTC",
    batch_size: Annotated[int, typer.Option(help="Documents per task run.")] = DEFAULT_BATCH_SIZE,
    allow_private_hosts: Annotated[
        bool,
        typer.Option(
            "--allow-private-hosts", help="Fetch URLs on private, loopback or link-local addresses."
        ),
    ] = False,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for a web server to connect or send.")
    ] = HttpOptions().read_timeout,
    max_bytes: Annotated[
        int,
        typer.Option(
            help="Largest document accepted, in bytes after decompression: a file, web page, "
            "JSON line or WARC record over it is rejected as too_large."
        ),
    ] = Limits().max_document_bytes,
    max_documents: Annotated[
        int | None,
        typer.Option(help="New or changed inputs to process this run; the rest wait for the next."),
    ] = None,
    stage_timeout: Annotated[
        float,
        typer.Option(
            help="Seconds a stage may work on one batch share; a document that alone takes "
            "longer is rejected as timeout."
        ),
    ] = Limits().stage_timeout_seconds,
    host_delay: Annotated[
        float, typer.Option(help="Seconds between two requests to the same host.")
    ] = HttpOptions().host_delay_seconds,
    full_refresh: Annotated[
        bool,
        typer.Option(
            "--full-refresh", help="Forget earlier runs: clear the output, re-process everything."
        ),
    ] = False,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes for cleaning, language detection and NER; one per core if unset."
        ),
    ] = None,
    dask_address: Annotated[
        str | None,
        typer.Option(help="Run the stages on this Dask scheduler's workers, e.g. tcp://host:8786."),
    ] = None,
) -> None:
    """Run the process-documents flow over SOURCES and write Parquet to --output.

    SOURCES: files, directories, globs, http(s) URLs, files listing URLs, RSS/Atom feed and sitemap URLs, WARC files.
    """  # noqa: E501 (one line: the help shows the docstring's line breaks)
    try:
        http = HttpOptions(
            connect_timeout=timeout,
            read_timeout=timeout,
            host_delay_seconds=host_delay,
        )
        limits = Limits(
            max_document_bytes=max_bytes,
            max_documents=max_documents,
            stage_timeout_seconds=stage_timeout,
        )
        params = RunParameters(
            sources=sources,
            output=output,
            timezone=timezone,
            batch_size=batch_size,
            allow_private_hosts=allow_private_hosts,
            http=http,
            limits=limits,
            full_refresh=full_refresh,
            processes=workers or available_cores(),
            dask_address=dask_address,
        )
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
            for e in error.errors()
        )
        raise fail(problems) from error
    check_sources(params.sources)
    check_writable(params.output)
    if workers is not None and workers < 1:
        raise fail("--workers must be at least 1")

    from flows.pipeline import process_documents  # imports Prefect: only once arguments are good

    # The flow's parameters decide where it runs: here, or on Dask with `dask_address`.
    state = process_documents(**params.model_dump(mode="json"), return_state=True)
    if not state.is_completed():
        errors.print(f"[bold red]docpipe: the run ended {state.name}:[/] {state.message}")
        raise typer.Exit(code=1)
    print_summary(state.result())


@app.command()
def compact(
    output: Annotated[Path, typer.Argument(help="A docpipe output directory.")],
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for runs writing the output to finish.")
    ] = 0.0,
) -> None:
    """Merge the small parts that runs leave, month by month, into files of up to 128 MB.
    Refuses (exit 1) while a run writes the output, unless --wait lets it finish."""
    from tasks.compact import compact_output
    from tasks.layout import STATE
    from tasks.lock import OutputBusy

    if not (output / STATE).is_dir():
        errors.print(f"[bold red]docpipe compact:[/] {output} is not a docpipe output")
        raise typer.Exit(code=1)
    try:
        compaction = compact_output(output, wait)
    except OutputBusy as busy:
        errors.print(f"[bold red]docpipe compact:[/] {busy}")
        raise typer.Exit(code=1) from None
    for dataset, before in compaction.parts_before.items():
        after = compaction.parts_after[dataset]
        console.print(f"{dataset}: {counted(before, 'part')} -> {after}")


@app.command()
def verify(
    output: Annotated[Path, typer.Argument(help="A docpipe output directory.")],
) -> None:
    """Check a finished output: schemas, one row per input, entities with their documents,
    no temporary files. Exits 1 and says what is wrong otherwise."""
    from tasks.verify import verify_output

    found = verify_output(output)
    for problem in found.problems:
        errors.print(f"[bold red]docpipe verify:[/] {problem}")
    if not found.ok:
        raise typer.Exit(code=1)
    console.print(
        f"{output}: OK, {found.rows['documents']} documents, {found.rows['entities']} entity "
        f"mentions and {found.rows['rejects']} rejects in {found.parts} parts"
    )
