"""The sorted store: lookups read only the row groups that can hold their keys."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tasks.sorted_store import ROW_GROUP_ROWS, SortedStore, newest

SCHEMA = pa.schema([pa.field("key", pa.string(), nullable=False), pa.field("value", pa.int64())])


def rows(keys: list[str], value: int) -> pa.Table:
    return pa.table({"key": keys, "value": [value] * len(keys)}, schema=SCHEMA)


def test_lookup_finds_every_row_of_its_keys_with_the_file_it_came_from(tmp_path: Path) -> None:
    store = SortedStore(tmp_path, "key", SCHEMA)
    store.append(rows(["b", "a"], 1))
    store.append(rows(["b", "c"], 2))
    store.append(rows([], 3))  # nothing to write

    found = store.lookup(["b", "c", "z"]).sort_by([("key", "ascending"), ("sequence", "ascending")])
    assert found.to_pylist() == [
        {"key": "b", "value": 1, "sequence": 1},
        {"key": "b", "value": 2, "sequence": 2},
        {"key": "c", "value": 2, "sequence": 2},
    ]
    assert newest(found, "key").sort_by("key")["value"].to_pylist() == [2, 2]
    assert store.lookup([]).num_rows == 0


def test_a_lookup_of_a_few_keys_reads_a_few_row_groups(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SortedStore(tmp_path, "key", SCHEMA)
    store.append(rows([f"{n:08d}" for n in range(100 * ROW_GROUP_ROWS)], 1))
    read: list[list[int]] = []
    original = pq.ParquetFile.read_row_groups

    def counting(
        self: pq.ParquetFile, groups: list[int], *args: object, **kwargs: object
    ) -> pa.Table:
        read.append(list(groups))
        return original(self, groups, *args, **kwargs)

    monkeypatch.setattr(pq.ParquetFile, "read_row_groups", counting)
    wanted = [f"{n:08d}" for n in (5, 50 * ROW_GROUP_ROWS + 3, 99 * ROW_GROUP_ROWS)]
    assert sorted(store.lookup(wanted)["key"].to_pylist()) == wanted
    assert read == [[0, 50, 99]]


def test_compact_keeps_what_the_caller_chooses_in_one_file(tmp_path: Path) -> None:
    store = SortedStore(tmp_path, "key", SCHEMA)
    for value in range(1, 4):
        store.append(rows(["a", f"k{value}"], value))
    store.compact(lambda table: newest(table, "key"))

    assert [sequence for sequence, _ in store.files()] == [3]
    found = store.lookup(["a", "k1", "k2", "k3"]).sort_by("key")
    assert found.select(["key", "value"]).to_pylist() == [
        {"key": "a", "value": 3},
        {"key": "k1", "value": 1},
        {"key": "k2", "value": 2},
        {"key": "k3", "value": 3},
    ]
    store.append(rows(["a"], 4))
    assert [sequence for sequence, _ in store.files()] == [3, 4]
