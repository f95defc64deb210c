"""The one reader of a Delta table's add actions: its live files, typed.

delta-rs hands partition values back as text-typed or loosely typed columns; every module that
asks which files a version holds (the commit path, the quality scope, the fetch history)
reads them here, so that a day is a ``date32`` and a period an ``int64`` everywhere.
"""

from __future__ import annotations

import pyarrow as pa
from deltalake import DeltaTable

__all__ = ["live_files"]

#: the partition columns the provider's tables use, and their Arrow types
_PARTITION_TYPES = {"partition.period_ms": pa.int64(), "partition.dt": pa.date32()}


def live_files(table: DeltaTable) -> pa.Table:
    """The live data files of ``table``'s loaded version: ``path``, ``size_bytes``,
    ``num_records``, the statistics, and the partition values as their columns' types."""
    files = pa.table(table.get_add_actions(flatten=True))
    for name, kind in _PARTITION_TYPES.items():
        index = files.schema.get_field_index(name)
        if index >= 0:
            files = files.set_column(index, name, files[name].cast(kind))
    return files
