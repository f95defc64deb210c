"""A lake written by 0.4.0 upgrades in place on its next write: the new columns are added to
its tables (metadata only, no data file rewritten), old rows read null there, and two first
writers at once do not fail each other."""

from __future__ import annotations

from pathlib import Path

import pytest
from deltalake import DeltaTable

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.storage.columns import MEDIA_OFFERS_SCHEMA, MEDIA_STATS_SCHEMA
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from airflow_provider_fansly.testing.synthetic import is_video, media_entry
from devtools.workers import finish, start_worker
from tests.fixtures.lake_0_4 import MEDIA_STATS_0_4, build_lake_0_4
from tests.lake import lake_rows, truth

D0 = 1_767_225_600_000  # 2026-01-01
OLD = (D0, D0 + 10 * DAY_MS)  # what 0.4 fetched
NEW = (D0 + 10 * DAY_MS, D0 + 12 * DAY_MS)  # what the upgraded writers fetch
IDS = [f"up{m}" for m in range(12)]  # up2 and up10 are videos


def data_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in (root / "media_stats").rglob("*.parquet")}


def test_two_first_writers_at_once_upgrade_an_old_lake_and_every_old_row_stays(
    tmp_path: Path,
) -> None:
    lake = tmp_path / "lake"
    build_lake_0_4(lake, DEFAULT_ACCOUNT, IDS, *OLD, DAY_MS)
    old_files = data_files(lake)
    old_rows = DeltaTable(lake / "media_stats").to_pyarrow_table().sort_by("bucket_start")
    gate = tmp_path / "gate"
    gate.mkdir()
    with Emulator() as emu:
        workers = [
            start_worker(lake, emu, *NEW, ids=half, upgrade_barrier=gate, parties=2)
            for half in (IDS[:6], IDS[6:])
        ]
        for worker in workers:
            finish(worker)
    assert len(list(gate.iterdir())) == 2  # both met the old schema, then raced to add
    stats = DeltaTable(lake / "media_stats")
    assert stats.schema().to_arrow().names == MEDIA_STATS_SCHEMA.names
    adds = [h for h in stats.history() if h["operation"] == "ADD COLUMN"]
    assert len(adds) == 1  # the loser found the columns there and wrote its rows
    assert old_files <= data_files(lake)  # nothing rewritten
    every = truth(DEFAULT_ACCOUNT, IDS, *NEW, DAY_MS)
    assert [r for r in lake_rows(lake) if r[1] >= NEW[0]] == every
    assert any(r[-4] is not None for r in every)  # the new writes carry video numbers
    kept = [r for r in lake_rows(lake) if r[1] < NEW[0]]
    assert len(kept) == old_rows.num_rows
    assert all(r[-4:] == (None,) * 4 for r in kept)  # old rows read null, never 0
    offers = DeltaTable(lake / "media_offers").to_pyarrow_table()
    assert offers.schema.names == MEDIA_OFFERS_SCHEMA.names
    metadata = {r["media_offer_id"]: (r["media_type"], r["duration_s"]) for r in offers.to_pylist()}
    sent = {m: media_entry(DEFAULT_ACCOUNT, m)["media"] for m in IDS}
    assert metadata == {m: (e["type"], e.get("duration")) for m, e in sent.items()}
    assert {m for m, (_, d) in metadata.items() if d} == {
        m for m in IDS if is_video(DEFAULT_ACCOUNT, m)
    }


def test_a_table_whose_column_changed_type_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    from airflow_provider_fansly.exceptions import FanslyLakeError
    from airflow_provider_fansly.storage.delta import MEDIA_STATS_TABLE, ensure_table
    from airflow_provider_fansly.storage.location import Location

    changed = pa.schema(
        [f.with_type(pa.int32()) if f.name == "views" else f for f in MEDIA_STATS_0_4]
    )
    write_deltalake(
        tmp_path / "media_stats", changed.empty_table(), partition_by=["period_ms", "dt"]
    )
    before = DeltaTable(tmp_path / "media_stats").version()
    with pytest.raises(FanslyLakeError, match="views has another type"):
        ensure_table(Location.parse(str(tmp_path)), MEDIA_STATS_TABLE)
    assert DeltaTable(tmp_path / "media_stats").version() == before
