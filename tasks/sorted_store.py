"""An append-only lookup table in Parquet files sorted by their key: the run's bookkeeping
(`tasks.state`) looks up the keys of one run without reading the rest.

Each append writes one file, named by a rising sequence number, sorted by key in small row
groups. A lookup opens each file's footer and reads only the row groups whose key range
(min/max statistics) holds a wanted key, so its cost follows the keys asked for, not the
table. `compact` merges the files into one, keeping the rows a caller chooses.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tasks.common import content_hash
from tasks.layout import PART_SUFFIX, TEMPORARY_SUFFIX, write_atomically

# Rows per row group: a lookup of one key reads at most this many rows of a file.
ROW_GROUP_ROWS = 1024
GROUPS_READ = 16  # row groups read at once, then filtered to the keys asked for
SEQUENCE = "sequence"  # the column a lookup adds: the number of the file a row came from
_NAME = re.compile(r"^(\d{10})-[0-9a-f]{16}" + re.escape(PART_SUFFIX) + "$")


class SortedStore:
    def __init__(self, folder: Path, key: str, schema: pa.Schema) -> None:
        self.folder = folder
        self.key = key
        self.schema = schema

    def files(self) -> list[tuple[int, Path]]:
        """(sequence, path) of the store's files, oldest first."""
        if not self.folder.is_dir():
            return []
        found = ((_NAME.match(path.name), path) for path in self.folder.iterdir())
        return sorted((int(match[1]), path) for match, path in found if match)

    def append(self, table: pa.Table) -> None:
        """Add rows as a new file (nothing if there are none): a later sequence than any."""
        if table.num_rows:
            files = self.files()
            self._write(table, files[-1][0] + 1 if files else 1)

    def _write(self, table: pa.Table, sequence: int) -> Path:
        rows = table.select(self.schema.names).cast(self.schema).sort_by(self.key)
        name = content_hash(self.folder.name, sequence, rows.num_rows, rows[self.key][0].as_py())[
            :16
        ]
        path = self.folder / f"{sequence:010d}-{name}{PART_SUFFIX}"
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomically(rows, path, row_group_size=ROW_GROUP_ROWS)
        return path

    def lookup(self, keys: Iterable[str]) -> pa.Table:
        """Every row of the given keys, from every file, with the file's `sequence`."""
        wanted = sorted(set(keys))
        value_set = pa.array(wanted, pa.string())
        found = [self.schema.append(pa.field(SEQUENCE, pa.int64())).empty_table()]
        for sequence, path in self.files() if wanted else []:
            file = pq.ParquetFile(path)
            groups = [g for g in range(file.num_row_groups) if _holds(file, g, self.key, wanted)]
            if not groups:
                continue
            rows = file.read_row_groups(groups).cast(self.schema)
            rows = rows.filter(pc.is_in(rows[self.key], value_set=value_set))
            found.append(
                rows.append_column(SEQUENCE, pa.array([sequence] * rows.num_rows, pa.int64()))
            )
        return pa.concat_tables(found)

    def compact(self, keep: Callable[[pa.Table], pa.Table]) -> None:
        """Merge every file into one holding `keep(all rows, with sequence)`.

        The merged file takes the newest sequence and is written before the others go, so a
        crash leaves either the old files or the new one beside some old ones: the same rows.
        """
        files = self.files()
        if len(files) < 2:
            return
        rows = pa.concat_tables(
            pq.read_table(path)
            .cast(self.schema)
            .append_column(
                SEQUENCE, pa.array([sequence] * pq.read_metadata(path).num_rows, pa.int64())
            )
            for sequence, path in files
        )
        merged = self._write(keep(rows), files[-1][0])
        for _, path in files:
            if path != merged:
                path.unlink()
        for leftover in self.folder.glob(f"*{TEMPORARY_SUFFIX}"):
            leftover.unlink()


def newest(rows: pa.Table, key: str) -> pa.Table:
    """The row of each key from the newest file (rows as `lookup` returns them)."""
    latest = rows.group_by(key).aggregate([(SEQUENCE, "max")])
    return rows.join(latest.rename_columns([key, SEQUENCE]), [key, SEQUENCE], join_type="inner")


def _holds(file: pq.ParquetFile, group: int, key: str, wanted: list[str]) -> bool:
    """Whether a row group's key range holds a wanted key (True without statistics)."""
    column = file.metadata.row_group(group).column(file.schema_arrow.get_field_index(key))
    stats = column.statistics
    if stats is None or not stats.has_min_max:
        return True
    at = bisect.bisect_left(wanted, stats.min)
    return at < len(wanted) and wanted[at] <= stats.max
