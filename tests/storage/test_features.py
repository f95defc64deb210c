"""The allowlist of Delta table features the commit path writes (``storage/features.py``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from deltalake import DeltaTable, TableFeatures

from airflow_provider_fansly.exceptions import FanslyTableFeatureError
from airflow_provider_fansly.storage.columns import MEDIA_STATS_SCHEMA
from airflow_provider_fansly.storage.delta import MEDIA_STATS_TABLE, ensure_table
from airflow_provider_fansly.storage.features import (
    check_writable,
    refusals_of,
    writable_media_stats,
)
from airflow_provider_fansly.storage.location import Location


def fresh(root: Path) -> DeltaTable:
    """The table as a task's commit creates it."""
    return ensure_table(Location.parse(str(root)), MEDIA_STATS_TABLE)


def test_the_table_a_task_creates_is_writable(tmp_path: Path) -> None:
    location = Location.parse(str(tmp_path))
    assert writable_media_stats(location) is None  # no table yet: nothing made before a fetch
    assert not (tmp_path / "media_stats").exists()
    table = fresh(tmp_path)
    assert table.version() == 0 and refusals_of(table) == []
    assert writable_media_stats(location) is not None


def _properties(**config: str) -> Callable[[DeltaTable], None]:
    return lambda table: table.alter.set_table_properties(config)


CASES = [
    (_properties(**{"delta.appendOnly": "true"}), ["delta.appendOnly"]),
    (_properties(**{"delta.enableChangeDataFeed": "true"}), ["delta.enableChangeDataFeed"]),
    (
        _properties(**{"delta.dataSkippingNumIndexedCols": "4"}),
        ["delta.dataSkippingNumIndexedCols"],
    ),
    (
        lambda t: t.alter.add_constraint({"positive": "views >= 0", "known": "stat_type < 9"}),
        ["CHECK constraint known (stat_type < 9)", "CHECK constraint positive (views >= 0)"],
    ),
    (
        lambda t: t.alter.add_feature(
            TableFeatures.DeletionVectors, allow_protocol_versions_increase=True
        ),
        ["table feature deletionVectors"],
    ),
    (
        lambda t: t.alter.add_feature(
            TableFeatures.RowTracking, allow_protocol_versions_increase=True
        ),
        ["table feature rowTracking"],
    ),
]


@pytest.mark.parametrize(
    ("alter", "features"),
    CASES,
    ids=["append-only", "change-data-feed", "stats-columns", "constraints", "dv", "row-tracking"],
)
def test_each_feature_outside_the_allowlist_is_named(
    tmp_path: Path, alter: Callable[[DeltaTable], None], features: list[str]
) -> None:
    alter(fresh(tmp_path))
    table = DeltaTable(str(tmp_path / "media_stats"))
    with pytest.raises(FanslyTableFeatureError) as raised:
        check_writable(table)
    assert raised.value.features == features
    assert raised.value.table == "media_stats"
    assert "Nothing was fetched or written" in str(raised.value)


def test_turning_a_feature_off_again_makes_the_table_writable(tmp_path: Path) -> None:
    table = fresh(tmp_path)
    table.alter.set_table_properties({"delta.enableChangeDataFeed": "true"})
    table.alter.set_table_properties({"delta.enableChangeDataFeed": "false"})
    check_writable(DeltaTable(str(tmp_path / "media_stats")))


def test_another_partitioning_is_refused(tmp_path: Path) -> None:
    uri = str(tmp_path / "media_stats")
    DeltaTable.create(uri, schema=MEDIA_STATS_SCHEMA, partition_by=["dt"])
    with pytest.raises(FanslyTableFeatureError, match=r"partitioning \['dt'\]"):
        writable_media_stats(Location.parse(str(tmp_path)))
